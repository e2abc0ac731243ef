/** The resolve stage against real D1: what a batch concerns, read once per attempt. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { resolveCustomers, resolveEvents } from "../../src/pipeline/resolve";
import { admin, uid, ownerOf } from "../helpers";

const event = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });

describe("resolveEvents", () => {
  it("groups a stored customer's events with its profile", async () => {
    const userId = uid();
    const first = event({ type: "track", userId, event: "Viewed" });
    await processEvents(env, [first]);
    const next = event({ type: "track", userId, event: "Added" });
    const resolved = await resolveEvents(env, [first, next], Date.now());
    expect(resolved.groups).toHaveLength(1);
    const [group] = resolved.groups;
    expect(group!.isNew).toBe(false);
    expect(group!.events.map((e) => e.messageId)).toEqual([first.messageId, next.messageId]);
    expect(resolved.profiles.get(group!.customerId)!.identities.map((i) => i.key)).toContain(`user_id:${userId}`);
  });

  it("gives an unknown person a new customer, and groups two identifiers an event links", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    const resolved = await resolveEvents(env, [event({ type: "track", anonymousId, event: "Viewed" }), event({ type: "identify", userId, anonymousId, traits: {} })], Date.now());
    expect(resolved.groups).toHaveLength(1);
    expect(resolved.groups[0]!.isNew).toBe(true);
    expect(resolved.groups[0]!.newIdentities.map((i) => i.key).sort()).toEqual([`anonymous_id:${anonymousId}`, `user_id:${userId}`]);
  });

  it("drops the events of an erased person and says which", async () => {
    const userId = uid();
    await processEvents(env, [event({ type: "identify", userId, traits: {} })]);
    expect((await admin(`/v1/customers/${userId}?reason=test`, { method: "DELETE" })).status).toBe(200);
    const late = event({ type: "track", userId, event: "Late" });
    const other = event({ type: "track", userId: uid(), event: "Fine" });
    let dropped: ReadonlySet<string> | undefined;
    const resolved = await resolveEvents(env, [late, other], Date.now(), (ids) => {
      dropped = ids;
    });
    expect(dropped).toEqual(new Set([late.messageId]));
    expect(resolved.suppressed).toBe(1);
    expect(resolved.events).toEqual([other]);
  });
});

describe("resolveCustomers", () => {
  it("reads the customers named, as groups without events, and skips ids that do not exist", async () => {
    const userId = uid();
    await processEvents(env, [event({ type: "identify", userId, traits: {} })]);
    const id = (await ownerOf(`user_id:${userId}`))!;
    const resolved = await resolveCustomers(env, [id, "cus_missing"]);
    expect(resolved.groups).toEqual([{ customerId: id, isNew: false, events: [], newIdentities: [], merges: [], conflicts: [] }]);
    expect([...resolved.profiles.keys()]).toEqual([id]);
  });
});
