import { describe, expect, it } from "vitest";
import type { EventPack, StoredEvent } from "../../src/model/events";
import { MAX_PACK_BYTES } from "../../src/ingest/limits";
import { groupForSend, packEvents } from "../../src/ingest/pack";
import { decodePack } from "../../src/queues/pack-decode";
import type { ViolationRecord } from "../../src/model/events";

const event = (i: number, padding: string): StoredEvent => ({ messageId: `m${i}`, type: "track", event: "E", userId: "u", properties: { padding, note: "é ✓" }, timestamp: "2026-01-01T00:00:00.000Z", receivedAt: "2026-01-01T00:00:00.000Z", sourceId: "key" });

describe("packing events onto the queue", () => {
  it("splits events into decodable packs under the message limit, in order", () => {
    const events = Array.from({ length: 600 }, (_, i) => event(i, "x".repeat(500)));
    const packs = packEvents(events, [{ id: "q1", endpoint: "/v1/batch", reason: "r", errors: [], raw: "{}", truncated: false }], { sourceId: "key", receivedAt: "2026-01-01T00:00:00.000Z" });
    expect(packs.length).toBeGreaterThan(2);
    const decoded = packs.map((p) => decodePack(p.body) as EventPack);
    for (const [i, p] of packs.entries()) {
      expect(new TextEncoder().encode(p.body).byteLength).toBe(p.bytes);
      expect(p.bytes).toBeLessThanOrEqual(MAX_PACK_BYTES);
      expect(decoded[i]!.packId).toBe(p.packId);
    }
    expect(decoded.flatMap((p) => p.events)).toEqual(events);
    expect(decoded.flatMap((p) => p.rejected).map((r) => r.id)).toEqual(["q1"]);
    expect(new Set(packs.map((p) => p.packId)).size).toBe(packs.length);
  });

  it("counts each pack's UTF-8 bytes exactly, whichever of its lists are empty", () => {
    const rejected = { id: "q1", endpoint: "/v1/batch", reason: "r", errors: [], raw: "{\"naïve\":1}", truncated: false };
    const violation: ViolationRecord = { sourceId: "key", messageId: "m1", receivedAt: "2026-01-01T00:00:00.000Z", planId: "plan", planVersion: 1, eventName: "Café ✓", action: "flagged", unplanned: true, violations: [] };
    const meta = { sourceId: "key", receivedAt: "2026-01-01T00:00:00.000Z" };
    const combinations = [
      packEvents([event(1, "a")], [], meta),
      packEvents([], [rejected], meta),
      packEvents([], [], meta, [violation]),
      packEvents([event(1, "a"), event(2, "b")], [rejected, rejected], meta, [violation, violation]),
      packEvents([event(1, "a")], [], meta, [violation]),
    ];
    for (const packs of combinations) {
      expect(packs).toHaveLength(1);
      expect(packs[0]!.bytes).toBe(new TextEncoder().encode(packs[0]!.body).byteLength);
      expect(decodePack(packs[0]!.body)).not.toBeNull();
    }
  });

  it("groups packs into sendBatch calls of at most 250 KB", () => {
    const packs = packEvents(Array.from({ length: 1200 }, (_, i) => event(i, "y".repeat(400))), [], { sourceId: "key", receivedAt: "2026-01-01T00:00:00.000Z" });
    for (const group of groupForSend(packs)) expect(group.reduce((n, p) => n + p.bytes, 0)).toBeLessThanOrEqual(250 * 1024);
  });
});
