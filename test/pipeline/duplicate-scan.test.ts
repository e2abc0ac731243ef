import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, bearer, KEYS, profileWhen, uid, ownerOf } from "../helpers";

const person = (who: { userId?: string; anonymousId?: string }, traits: Record<string, unknown>): StoredEvent => ({
  messageId: uid("m"),
  type: "identify",
  ...who,
  traits,
  timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: "key_test",
});
const idOf = (key: string) => ownerOf(key);

describe("duplicate scan", () => {
  it("merges sure duplicates, keeps doubtful ones for review, and never proposes a decided pair again", async () => {
    await processEvents(env, [
      person({ userId: "grace" }, { firstName: "Grace", lastName: "Hopper", email: "grace.hopper@navy.example", address: { postalCode: "10001" } }),
      person({ anonymousId: "a-grace" }, { firstName: "Grace", lastName: "Hoper", email: "grace.hopper@mail.example", address: { postalCode: "10001" } }),
      person({ anonymousId: "a-alan-1" }, { firstName: "Alan", lastName: "Turing", address: { postalCode: "20002" } }),
      person({ anonymousId: "a-alan-2" }, { firstName: "Alan", lastName: "Turring", address: { postalCode: "20002" } }),
      person({ userId: "ada-1" }, { firstName: "Ada", lastName: "Lovelace", address: { postalCode: "30003" } }),
      person({ userId: "ada-2" }, { firstName: "Ada", lastName: "Lovelace", address: { postalCode: "30003" } }),
      person({ anonymousId: "a-edsger" }, { firstName: "Edsger", lastName: "Dijkstra" }),
      person({ anonymousId: "a-edsger-2" }, { firstName: "Edsger", lastName: "Dijkstra" }),
    ]);
    const scan = (await (await admin("/v1/admin/duplicates/scan", { method: "POST" })).json()) as any;
    expect(scan).toMatchObject({ profiles: 8, merged: 1, pending: 1 });

    // The sure pair merged into the identified customer.
    expect(await idOf("anonymous_id:a-grace")).toBe(await idOf("user_id:grace"));
    const grace = await profileWhen("grace", () => true);
    expect(grace.identities.emails.sort()).toEqual(["grace.hopper@mail.example", "grace.hopper@navy.example"]);
    const merges = (await (await api("/v1/customers/grace/merges", { headers: { authorization: bearer(KEYS.read) } })).json()) as any;
    expect(merges.merges).toHaveLength(1);

    // The doubtful pair waits; two userIds and bare namesakes are not proposed.
    const pending = (await (await admin("/v1/admin/duplicates?status=pending")).json()) as any;
    expect(pending.items).toHaveLength(1);
    const [alan1, alan2] = [await idOf("anonymous_id:a-alan-1"), await idOf("anonymous_id:a-alan-2")];
    expect([pending.items[0].a, pending.items[0].b].sort()).toEqual([alan1, alan2].sort());
    expect(pending.items[0].reasons).toEqual(expect.arrayContaining(["same_postal_code"]));

    const rejected = await admin(`/v1/admin/duplicates/${pending.items[0].a}/${pending.items[0].b}/reject`, { method: "POST" });
    expect(await rejected.json()).toEqual({ status: "rejected" });
    const again = (await (await admin("/v1/admin/duplicates/scan", { method: "POST" })).json()) as any;
    expect(again).toMatchObject({ merged: 0, pending: 0 });
    expect(await idOf("anonymous_id:a-alan-1")).not.toBe(await idOf("anonymous_id:a-alan-2"));
  });

  it("merges a pending pair on an admin's decision", async () => {
    await processEvents(env, [
      person({ anonymousId: "a-barbara-1" }, { firstName: "Barbara", lastName: "Liskov", address: { postalCode: "40004" } }),
      person({ anonymousId: "a-barbara-2" }, { firstName: "Barbara", lastName: "Liskow", address: { postalCode: "40004" } }),
    ]);
    await admin("/v1/admin/duplicates/scan", { method: "POST" });
    const pending = (await (await admin("/v1/admin/duplicates?status=pending")).json()) as any;
    const pair = pending.items.find((i: any) => i.reasons.includes("same_postal_code") && i.score < 0.92);
    const res = await admin(`/v1/admin/duplicates/${pair.a}/${pair.b}/merge`, { method: "POST" });
    expect(await res.json()).toEqual({ status: "merged" });
    expect(await idOf("anonymous_id:a-barbara-1")).toBe(await idOf("anonymous_id:a-barbara-2"));
    expect((await admin(`/v1/admin/duplicates/${pair.a}/${pair.b}/merge`, { method: "POST" })).status).toBe(404);
  });

  it("needs an admin key", async () => {
    expect((await api("/v1/admin/duplicates/scan", { method: "POST", headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
  });
});
