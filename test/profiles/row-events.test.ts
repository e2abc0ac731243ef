import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { eventsJson, eventsJsonLength } from "../../src/model/event-json";
import { RowEvents } from "../../src/profiles/row-events";
import { loadEvents, placeEvents } from "../../src/profiles/store";
import { profileWhen, uid } from "../helpers";

const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s)).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(0), receivedAt: at(0), sourceId: "key_test", ...p });

describe("RowEvents (a row's events kept as text)", () => {
  const awkward = ['plain', 'with "quotes"', "back\\slash", "uni\u00e9\u2028code", 'ends with \\"'];
  const events = awkward.map((messageId, i) => ev({ type: "track", userId: "u", event: "E", messageId, timestamp: at(i) }));

  it("appends serialized events exactly as serializing the whole list would, and knows the length", () => {
    const fresh = [ev({ type: "page", anonymousId: "a", properties: { title: 'x"y' } }), ev({ type: "track", userId: "u", event: "E" })];
    for (const start of [[], events.slice(0, 1), events]) {
      const row = RowEvents.fromJson(JSON.stringify(start));
      for (const added of [[], fresh.slice(0, 1), fresh]) {
        const expected = JSON.stringify([...start, ...added]);
        expect(row.appendedJson(JSON.stringify(added))).toBe(expected);
        expect(row.appendedLength(JSON.stringify(added).length)).toBe(expected.length);
        // A summary of the same stored text predicts the same length.
        expect(RowEvents.stored("cus_x", start.map((e) => e.messageId), JSON.stringify(start).length).appendedLength(JSON.stringify(added).length)).toBe(expected.length);
        // The new events' array, and its length counted without building it.
        expect(eventsJson(added)).toBe(JSON.stringify(added));
        expect(eventsJsonLength(added)).toBe(JSON.stringify(added).length);
      }
    }
  });

  it("appends in SQL only to the row a summary describes", () => {
    const summary = RowEvents.stored("cus_a", ["m1"], 20);
    const fresh = [ev({ type: "track", userId: "u", event: "E", messageId: "m2" })];
    const placed = placeEvents("cus_a", summary, fresh);
    expect(placed).toMatchObject({ mode: "append", text: JSON.stringify(fresh), ids: ["m1", "m2"], length: 20 + JSON.stringify(fresh).length - 1 });
    // Another customer (a merge's survivor) gets the whole text, which a summary does not have.
    expect(() => placeEvents("cus_b", summary, fresh)).toThrow(/not read/);
  });

  it("dedupes exactly from a summary, and refuses to give events it does not have", () => {
    const row = RowEvents.stored("cus_x", awkward, 1234);
    const seen = new Set<string>();
    row.collectSeen(new Set([awkward[1]!, "absent"]), seen);
    expect([...seen]).toEqual([awkward[1]]);
    expect(row.isLoaded).toBe(false);
    expect(row.length).toBe(1234);
    expect(() => row.list).toThrow(/not read/);
  });

  it("finds ids with quotes, backslashes and non-ASCII characters without parsing first", () => {
    const row = RowEvents.fromJson(JSON.stringify(events));
    const seen = new Set<string>();
    row.collectSeen(new Set([...awkward, "absent"]), seen);
    expect([...seen].sort()).toEqual([...awkward].sort());
  });

  it("finds an id whatever the key order of the stored event", () => {
    const reordered = JSON.stringify([{ type: "track", event: "E", userId: "u", timestamp: at(0), messageId: "late-key" }]);
    const seen = new Set<string>();
    RowEvents.fromJson(reordered).collectSeen(new Set(["late-key"]), seen);
    expect([...seen]).toEqual(["late-key"]);
  });

  it("does not take a property named messageId for an event's id", () => {
    const row = RowEvents.fromJson(JSON.stringify([ev({ type: "track", userId: "u", event: "Email Opened", messageId: "own", properties: { messageId: "esp-123", items: [{ messageId: "esp-456" }] } })]));
    const seen = new Set<string>();
    row.collectSeen(new Set(["esp-123", "esp-456", "own"]), seen);
    expect([...seen]).toEqual(["own"]);
  });
});

describe("returning customers' events", () => {
  it("counts an event whose id an earlier event carries as a property, and drops real duplicates", async () => {
    const userId = uid();
    const first = ev({ type: "track", userId, event: "Email Opened", timestamp: at(1), properties: { messageId: `esp-${userId}` } });
    await processEvents(env, [first]);
    const second = ev({ type: "track", userId, event: "Clicked", messageId: `esp-${userId}`, timestamp: at(2) });
    const stats = await processEvents(env, [second]);
    expect(stats.duplicates).toBe(0);
    const again = await processEvents(env, [second, first], { redelivered: true });
    expect(again.duplicates).toBe(2);
    const profile = await profileWhen(userId, (p) => p.eventCount === 2);
    expect(profile.eventCount).toBe(2);
  });

  it("keeps every batch's events in the row, in order, with ids that need escaping", async () => {
    const userId = uid();
    const ids = [`a"${userId}`, `b\\${userId}`, `c\u00e9${userId}`];
    for (const [i, messageId] of ids.entries()) await processEvents(env, [ev({ type: "track", userId, event: "Step", messageId, timestamp: at(i) })]);
    // Redelivered: none of them counts again.
    expect((await processEvents(env, ids.map((messageId, i) => ev({ type: "track", userId, event: "Step", messageId, timestamp: at(i) })), { redelivered: true })).duplicates).toBe(3);
    const profile = await profileWhen(userId, () => true);
    expect(profile.eventCount).toBe(3);
    const stored = await loadEvents(env.DB, profile.id);
    expect(stored.map((e) => e.messageId)).toEqual([...ids].reverse());
  });
});

/** A customer row's events text and its summary, as stored. */
async function storedRow(customerId: string) {
  const row = await env.DB.prepare("SELECT recent_events AS text, recent_ids AS ids, recent_length AS length, chunk_count AS chunks FROM customers WHERE id = ?").bind(customerId).first<{ text: string; ids: string | null; length: number | null; chunks: number }>();
  if (!row) throw new Error(`no row for ${customerId}`);
  return row;
}

/** The summary describes the text: its ids in order, and its length. */
function expectSummaryOf(row: { text: string; ids: string | null; length: number | null }) {
  expect(JSON.parse(row.ids ?? "null")).toEqual((JSON.parse(row.text) as StoredEvent[]).map((e) => e.messageId));
  expect(row.length).toBe(row.text.length);
}

describe("events appended to the row in SQL (the pipeline reads their ids, not them)", () => {
  it("keeps the row's text what serializing all its events gives, batch after batch", async () => {
    const userId = uid();
    const batches = [0, 1, 2].map((b) => [0, 1].map((i) => ev({ type: "track", userId, event: "Step", messageId: `${userId}-${b}-${i}`, timestamp: at(b * 2 + i), properties: { note: `é "${b}" \\ ${i}` } })));
    for (const batch of batches) await processEvents(env, batch);
    const profile = await profileWhen(userId, (p) => p.eventCount === 6);
    const row = await storedRow(profile.id);
    expect(row.text).toBe(JSON.stringify(batches.flat()));
    expectSummaryOf(row);
    // A batch with no new event (a redelivery) leaves the text as it is.
    expect((await processEvents(env, batches[1]!, { redelivered: true })).duplicates).toBe(2);
    expect((await storedRow(profile.id)).text).toBe(row.text);
  });

  it("reads the events of a row that has no summary (written before it, or trimmed) once, and writes the summary", async () => {
    const userId = uid();
    const first = [0, 1].map((i) => ev({ type: "track", userId, event: "Old", messageId: `${userId}-old-${i}`, timestamp: at(i) }));
    await processEvents(env, first);
    const profile = await profileWhen(userId, () => true);
    await env.DB.prepare("UPDATE customers SET recent_ids = NULL, recent_length = NULL WHERE id = ?").bind(profile.id).run();
    const later = ev({ type: "track", userId, event: "New", messageId: `${userId}-new`, timestamp: at(5) });
    const stats = await processEvents(env, [first[1]!, later]);
    expect(stats.duplicates).toBe(1);
    const row = await storedRow(profile.id);
    expect(row.text).toBe(JSON.stringify([...first, later]));
    expectSummaryOf(row);
  });

  it("moves a row's events to chunks when it fills up, and still drops their duplicates", async () => {
    const userId = uid();
    const padding = "p".repeat(500);
    const make = (from: number, count: number) => Array.from({ length: count }, (_, i) => ev({ type: "track", userId, event: "Big", messageId: `${userId}-${from + i}`, timestamp: at(from + i), properties: { padding } }));
    // About 38 KB: the row keeps them. Then about 19 KB more: the row would pass 48 KB.
    const first = make(0, 60);
    const second = make(60, 30);
    await processEvents(env, first);
    const profile = await profileWhen(userId, (p) => p.eventCount === 60);
    expect((await storedRow(profile.id)).chunks).toBe(0);
    await processEvents(env, second);
    const row = await storedRow(profile.id);
    expect(row.chunks).toBeGreaterThan(0);
    expect(row.text).toBe("[]");
    expectSummaryOf(row);
    expect((await processEvents(env, [...first, ...second], { redelivered: true })).duplicates).toBe(90);
    const stored = await loadEvents(env.DB, profile.id);
    expect(stored.map((e) => e.messageId).sort()).toEqual([...first, ...second].map((e) => e.messageId).sort());
    expect((await profileWhen(userId, (p) => p.eventCount >= 90)).eventCount).toBe(90);
  });

  it("gives a merged profile the events of both rows", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    const known = ev({ type: "track", userId, event: "Known", timestamp: at(1) });
    const anonymous = ev({ type: "page", anonymousId, name: "Home", timestamp: at(2) });
    await processEvents(env, [known]);
    await processEvents(env, [anonymous]);
    const link = ev({ type: "identify", userId, anonymousId, timestamp: at(3) });
    const stats = await processEvents(env, [link]);
    expect(stats.merges).toBe(1);
    const profile = await profileWhen(userId, (p) => p.eventCount === 3);
    const row = await storedRow(profile.id);
    expect((JSON.parse(row.text) as StoredEvent[]).map((e) => e.messageId).sort()).toEqual([known, anonymous, link].map((e) => e.messageId).sort());
    expectSummaryOf(row);
  });
});
