/**
 * Moving slots between shards (docs/scaling.md, "Moving slots"): what an existing deployment
 * does to spread from one database over two, and any deployment to add a shard. Runs in the
 * "one database" test project only (files one at a time: a move makes every writer wait), where
 * every slot starts in DB; the test moves slots 512-1023 to SHARD_1, as `npm run shards:move` would.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shards, slotOf } from "../../src/db/shards";
import { getMove } from "../../src/db/slot-moves";
import { runMoveJob } from "../../src/jobs/slot-move";
import { finishMove, startMove } from "../../src/maintenance/slot-moves";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { mergedInto } from "../../src/profiles/merges";
import { loadClaims, loadProfile } from "../../src/profiles/store";
import { admin, uid } from "../helpers";

const before = { ...env, SHARDS: "DB:0-1023" } as Env;
const after = { ...env, SHARDS: "DB:0-511,SHARD_1:512-1023" } as Env;
const event = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });
const ownerIn = async (world: Env, key: string) => (await loadClaims(shards(world), [key])).get(key)?.customerId;
const moving = (id: string) => slotOf(id) >= 512;

async function runUntil(world: Env, moveId: string, states: string[], now: number) {
  for (let step = 0; step < 500; step++) {
    const move = (await runMoveJob(world, { v: 1, kind: "slot_move", moveId }, { now, enqueue: false }))!;
    if (states.includes(move.state)) return move;
  }
  throw new Error(`move ${moveId} did not reach ${states.join("/")}`);
}

describe("moving slots between shards", () => {
  it("copies a range to another shard online, verifies it, and after SHARDS points there every profile, identifier, merge and event is served from it", async () => {
    // A shop on one database: twelve people, each with a user id, an anonymous id and events; two merged.
    const people = Array.from({ length: 12 }, () => ({ userId: uid(), anonymousId: uid("anon") }));
    const eventsOf = new Map(people.map(({ userId, anonymousId }) => [userId, [event({ type: "track", anonymousId, event: "Product Viewed" }), event({ type: "identify", userId, anonymousId, traits: { plan: "pro" } })]]));
    await processEvents(before, [...eventsOf.values()].flat());
    const [x, y] = [uid("anon"), uid("anon")];
    await processEvents(before, [event({ type: "track", anonymousId: x, event: "Product Viewed" }), event({ type: "track", anonymousId: y, event: "Product Viewed" })]);
    const mergedAway = [(await ownerIn(before, `anonymous_id:${x}`))!, (await ownerIn(before, `anonymous_id:${y}`))!];
    const linked = uid();
    await processEvents(before, [event({ type: "identify", userId: linked, anonymousId: x }), event({ type: "identify", userId: linked, anonymousId: y })]);
    const ids = await Promise.all(people.map(async ({ userId }) => (await ownerIn(before, `user_id:${userId}`))!));
    const survivor = (await ownerIn(before, `user_id:${linked}`))!;
    const all = [...ids, survivor];
    expect(all.some(moving)).toBe(true);
    // One moving customer as rows were before events moved into the objects: its events in its D1 row.
    const legacy = people.find((_, i) => moving(ids[i]!));
    const legacyId = legacy ? ids[people.indexOf(legacy)]! : null;
    if (legacy && legacyId) {
      const held = eventsOf.get(legacy.userId)!;
      await env.SESSIONS.getByName(legacyId).clear();
      await env.DB.prepare("UPDATE customers SET event_seq = NULL, recent_events = ?, recent_ids = ?, recent_length = ? WHERE id = ?").bind(JSON.stringify(held), JSON.stringify(held.map((e) => e.messageId)), JSON.stringify(held).length, legacyId).run();
    }
    const profilesBefore = new Map(await Promise.all(all.map(async (id) => [id, (await loadProfile(shards(before), id))!] as const)));

    const t0 = Date.now();
    const started = await startMove(before, { from: "DB", to: "SHARD_1", slots: { from: 512, to: 1023 } }, { now: t0, enqueue: false });
    // While it runs, admin writes wait.
    expect((await admin(`/v1/customers/${people[0]!.userId}?reason=test`, { method: "DELETE" })).status).toBe(409);
    // Nothing happens before writers have had time to learn of the move.
    expect((await runMoveJob(before, { v: 1, kind: "slot_move", moveId: started.id }, { now: t0 + 1000, enqueue: false }))!.state).toBe("events");
    const copied = await runUntil(before, started.id, ["copied", "failed"], t0 + 31_000);
    expect(copied.error).toBeNull();
    expect(copied.state).toBe("copied");
    const verification = JSON.parse(copied.verification!) as { source: { tables: Record<string, number>; customersDigest: string }; target: { tables: Record<string, number>; customersDigest: string }; differences: string[] };
    expect(verification.differences).toEqual([]);
    expect(verification.source.tables.customers).toBe(verification.target.tables.customers);
    expect(verification.source.tables.customers).toBeGreaterThanOrEqual(all.filter(moving).length);
    expect(verification.target.customersDigest).toBe(verification.source.customersDigest);

    // Until SHARDS points the range at SHARD_1 the source keeps its rows.
    await expect(finishMove(before, started.id, { enqueue: false })).rejects.toThrow(/SHARDS still places slot 512 on DB/);
    await finishMove(after, started.id, { enqueue: false });
    const finished = await runUntil(after, started.id, ["finished"], t0 + 40_000);
    expect(finished.finishedAt).not.toBeNull();

    for (const id of all) {
      const inDb = await env.DB.prepare("SELECT count(*) AS n FROM customers WHERE id = ?").bind(id).first<{ n: number }>();
      const inShard = await env.SHARD_1.prepare("SELECT count(*) AS n FROM customers WHERE id = ?").bind(id).first<{ n: number }>();
      expect([inDb!.n, inShard!.n]).toEqual(moving(id) ? [0, 1] : [1, 0]);
      const profile = (await loadProfile(shards(after), id))!;
      expect(profile.version).toBe(profilesBefore.get(id)!.version + (id === legacyId ? 1 : 0));
      expect(profile.state.eventCount).toBe(profilesBefore.get(id)!.state.eventCount);
    }
    if (legacyId) {
      // Its events moved into its object before the copy: the row on SHARD_1 holds none.
      const row = await env.SHARD_1.prepare("SELECT event_seq, recent_events FROM customers WHERE id = ?").bind(legacyId).first<{ event_seq: number | null; recent_events: string }>();
      expect(row!.event_seq).not.toBeNull();
      expect(row!.recent_events).toBe("[]");
      expect(JSON.parse(await env.SESSIONS.getByName(legacyId).storedEventsJson())).toHaveLength(2);
    }
    for (const [i, { userId, anonymousId }] of people.entries()) {
      expect(await ownerIn(after, `user_id:${userId}`)).toBe(ids[i]);
      expect(await ownerIn(after, `anonymous_id:${anonymousId}`)).toBe(ids[i]);
    }
    for (const id of mergedAway.filter((m) => m !== survivor)) expect(await mergedInto(shards(after), id)).toBe(survivor);
    // The same events again, after the move: each was applied once already.
    const again = await processEvents(after, people.map(({ userId }) => event({ type: "track", userId, event: "Returned" })));
    expect(again.customers).toBe(people.length);
    for (const id of ids) expect((await loadProfile(shards(after), id))!.state.eventCount).toBe(profilesBefore.get(id)!.state.eventCount + 1);
    // And admin writes go again.
    expect((await admin(`/v1/customers/${people[0]!.userId}?reason=test`, { method: "DELETE" })).status).not.toBe(409);
    expect((await getMove(env, started.id))!.state).toBe("finished");
  });

  it("refuses a range the shard map does not place on the source, and a second move while one is under way", async () => {
    await expect(startMove(after, { from: "DB", to: "SHARD_1", slots: { from: 500, to: 600 } }, { enqueue: false })).rejects.toThrow(/Slot 512 is on SHARD_1, not DB/);
    await expect(startMove(before, { from: "DB", to: "DB", slots: { from: 0, to: 1 } }, { enqueue: false })).rejects.toThrow(/same binding/);
    await expect(startMove(before, { from: "DB", to: "NOPE", slots: { from: 0, to: 1 } }, { enqueue: false })).rejects.toThrow(/not a D1 binding/);
  });
});
