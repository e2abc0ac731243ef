import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { env, uid } from "../helpers";

const DAY = 86_400_000;
const ev = (n: number, extra: Partial<StoredEvent> = {}): StoredEvent => ({
  messageId: `m-${n}`,
  type: "track",
  event: "Product Viewed",
  userId: "u",
  timestamp: new Date(Date.UTC(2026, 10, 1, 12, n)).toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: "key_test",
  properties: { product_id: `p${n}` },
  ...extra,
});
const ids = (json: string) => (JSON.parse(json) as StoredEvent[]).map((e) => e.messageId);
const stub = (id: string) => env.SESSIONS.getByName(id);

describe("a customer's events in its own object (sessions/event-store.ts)", () => {
  it("stores a batch as one row and answers the events after the watermark", async () => {
    const s = stub(uid("cus"));
    const first = await s.store({ customerId: "c", events: [ev(1), ev(2), ev(3)], watermark: 0 });
    expect(ids(first.freshJson)).toEqual(["m-1", "m-2", "m-3"]);
    expect(first).toMatchObject({ seq: 1, stored: 3, rowsWritten: 1 });
    // The profile applied chunk 1; the next batch answers only its own events.
    const second = await s.store({ customerId: "c", events: [ev(4)], watermark: first.seq });
    expect(ids(second.freshJson)).toEqual(["m-4"]);
    expect(second.seq).toBe(2);
  });

  it("skips events it has seen, in any later batch, and writes nothing for a batch of them", async () => {
    const s = stub(uid("cus"));
    const first = await s.store({ customerId: "c", events: [ev(1), ev(2)], watermark: 0 });
    const again = await s.store({ customerId: "c", events: [ev(2), ev(1)], watermark: first.seq });
    expect(again).toMatchObject({ freshJson: "[]", seq: 1, stored: 0, rowsWritten: 0 });
    const mixed = await s.store({ customerId: "c", events: [ev(1), ev(5), ev(5)], watermark: first.seq });
    expect(ids(mixed.freshJson)).toEqual(["m-5"]);
    expect(mixed.stored).toBe(1);
  });

  it("answers again what an attempt stored but never applied (its D1 commit failed)", async () => {
    const s = stub(uid("cus"));
    await s.store({ customerId: "c", events: [ev(1)], watermark: 0 });
    // The D1 row still says 0: the redelivered batch, and a later one, both get m-1.
    const redelivered = await s.store({ customerId: "c", events: [ev(1)], watermark: 0 });
    expect(ids(redelivered.freshJson)).toEqual(["m-1"]);
    const later = await s.store({ customerId: "c", events: [ev(2)], watermark: 0 });
    expect(ids(later.freshJson)).toEqual(["m-1", "m-2"]);
    expect(later.seq).toBe(2);
  });

  it("never answers events brought in already applied, but dedupes against them", async () => {
    const s = stub(uid("cus"));
    const moved = await s.store({ customerId: "c", events: [ev(3)], watermark: 0, imports: [{ events: [ev(1), ev(2)], counted: true }] });
    expect(ids(moved.freshJson)).toEqual(["m-3"]);
    const dup = await s.store({ customerId: "c", events: [ev(1), ev(2)], watermark: moved.seq });
    expect(dup.stored).toBe(0);
    expect(dup.freshJson).toBe("[]");
  });

  it("numbers a chunk after the watermark, so a profile never waits for a number it has passed", async () => {
    const s = stub(uid("cus"));
    const r = await s.store({ customerId: "c", events: [ev(1)], watermark: 7 });
    expect(r.seq).toBe(8);
    expect(ids(r.freshJson)).toEqual(["m-1"]);
  });

  it("hands its events over to a merge's survivor, which keeps them as applied", async () => {
    const survivorId = uid("cus");
    const mergedId = uid("cus");
    await stub(mergedId).store({ customerId: mergedId, events: [ev(1), ev(2)], watermark: 0 });
    await stub(survivorId).store({ customerId: survivorId, events: [ev(3)], watermark: 0 });
    await stub(survivorId).ingest({ customerId: survivorId, events: [], triggers: [], document: null, absorb: [mergedId] });
    // The survivor now dedupes the merged customer's events and never answers them as fresh.
    const redelivered = await stub(survivorId).store({ customerId: survivorId, events: [ev(1), ev(4)], watermark: 1 });
    expect(ids(redelivered.freshJson)).toEqual(["m-4"]);
    const held = await runInDurableObject(stub(survivorId), (_o: CustomerSession, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_chunks").one().n);
    expect(held).toBe(3);
    // The merged-away object is emptied.
    const left = await runInDurableObject(stub(mergedId), (_o: CustomerSession, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_chunks").one().n);
    expect(left).toBe(0);
  });

  it("deletes events past EVENT_RETENTION_DAYS on its alarm, keeping the sequence", async () => {
    const s = stub(uid("cus"));
    const before = Date.now();
    const old = await s.store({ customerId: "c", events: [ev(1)], watermark: 0 });
    // The first chunk sets the alarm for its expiry: 90 days locally, rounded up to a whole day.
    const alarmAt = await runInDurableObject(s, (_o: CustomerSession, state) => state.storage.getAlarm());
    expect(alarmAt).not.toBeNull();
    expect(alarmAt!).toBeGreaterThanOrEqual(before + 90 * DAY);
    expect(alarmAt!).toBeLessThanOrEqual(Date.now() + 91 * DAY);
    // A later chunk expires after it: the alarm stays.
    await s.store({ customerId: "c", events: [ev(2)], watermark: old.seq });
    expect(await runInDurableObject(s, (_o: CustomerSession, state) => state.storage.getAlarm())).toBe(alarmAt);
    await s.forgetEvents(["m-2"]);
    // Age the first chunk past the retention, as if stored then, and let the alarm come.
    await runInDurableObject(s, (_o: CustomerSession, state) => {
      state.storage.sql.exec("UPDATE event_chunks SET stored_at = ?", Date.now() - 91 * DAY);
      return state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(s)).toBe(true);
    const after = await runInDurableObject(s, (_o: CustomerSession, state) => state.storage.sql.exec<{ seq: number; events: string }>("SELECT seq, events FROM event_chunks").toArray());
    // The newest chunk stays, emptied, so the next one is numbered after it.
    expect(after).toEqual([{ seq: 2, events: "[]" }]);
    const next = await s.store({ customerId: "c", events: [ev(1)], watermark: 2 });
    // Its mark expired with it: m-1 is new again, and numbered 3.
    expect(next.seq).toBe(3);
    // The object held no event since the alarm: this first one sets the alarm again.
    expect(await runInDurableObject(s, (_o: CustomerSession, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(before + 90 * DAY);
    expect(ids(next.freshJson)).toEqual(["m-1"]);
  });
});
