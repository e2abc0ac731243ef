import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { api, env, getCustomer, KEYS, profileWhen, uid } from "../helpers";
import { ev } from "../trigger-helpers";

const lookup = (ids: unknown, key: string = KEYS.read) => api("/v1/customers/lookup", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ ids }) });

describe("POST /v1/customers/lookup", () => {
  it("answers many refs of any form in one call, in order, each found or not found on its own", async () => {
    const [a, b, c] = [uid("la"), uid("lb"), uid("lc")];
    await processEvents(env, [
      ev({ type: "identify", userId: a, traits: { email: `${a}@example.com`, plan: "pro" } }),
      ev({ type: "identify", userId: b, traits: { plan: "free" } }),
      ev({ type: "identify", anonymousId: c, traits: { plan: "trial" } }),
    ]);
    // One of them has been read before (its snapshot is in KV), the others not yet.
    const served = await profileWhen(a, (p) => p.traits.plan === "pro");
    const masterB = ((await (await getCustomer(b)).json()) as { id: string }).id;
    const res = await lookup([`email:${a}@example.com`, masterB, `anonymous_id:${c}`, "nobody-at-all", b]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { ref: string; found: boolean; status?: number; customer?: Record<string, any> }[]; found: number; notFound: number };
    expect(body.results.map((r) => r.ref)).toEqual([`email:${a}@example.com`, masterB, `anonymous_id:${c}`, "nobody-at-all", b]);
    expect(body.results.map((r) => r.found)).toEqual([true, true, true, false, true]);
    expect(body.results[0]!.customer!.id).toBe(served.id);
    expect(body.results[0]!.customer!.traits.plan).toBe("pro");
    expect(body.results[0]!.customer!.contentToken).toMatch(/^cus_/);
    expect(body.results[2]!.customer!.traits.plan).toBe("trial");
    expect(body.results[3]).toMatchObject({ found: false, status: 404 });
    expect(body.results[4]!.customer!.id).toBe(masterB);
    expect([body.found, body.notFound]).toEqual([4, 1]);
  });

  it("takes at most 100 ids, needs a read key, and refuses anything else with a problem naming the field", async () => {
    const tooMany = await lookup(Array.from({ length: 101 }, (_, i) => `u-${i}`));
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe("ids");
    expect((await lookup(["x"], KEYS.write)).status).toBe(401);
    expect((await lookup([])).status).toBe(400);
  });
});
