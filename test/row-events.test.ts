import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../src/events/types";
import { processEvents } from "../src/pipeline/process";
import { RowEvents } from "../src/profiles/row-events";
import { database } from "../src/db/client";
import { loadEvents } from "../src/profiles/store";
import { profileWhen, uid } from "./helpers";

const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s)).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(0), receivedAt: at(0), sourceId: "key_test", ...p });

describe("RowEvents (a row's events kept as text)", () => {
  const awkward = ['plain', 'with "quotes"', "back\\slash", "uni\u00e9\u2028code", 'ends with \\"'];
  const events = awkward.map((messageId, i) => ev({ type: "track", userId: "u", event: "E", messageId, timestamp: at(i) }));

  it("appends serialized events exactly as serializing the whole list would", () => {
    const fresh = [ev({ type: "page", anonymousId: "a", properties: { title: 'x"y' } })];
    for (const start of [[], events.slice(0, 1), events]) {
      const row = RowEvents.fromJson(JSON.stringify(start));
      expect(row.appendedJson(fresh.map((e) => JSON.stringify(e)))).toBe(JSON.stringify([...start, ...fresh]));
      expect(row.appendedJson([])).toBe(JSON.stringify(start));
    }
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
    const stored = await loadEvents(database(env.DB), profile.id);
    expect(stored.map((e) => e.messageId)).toEqual([...ids].reverse());
  });
});
