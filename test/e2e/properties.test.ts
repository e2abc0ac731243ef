/**
 * Property tests: the profile does not depend on the order events arrive in, on how they are
 * split into consumer batches, or on how often each is delivered.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { processEvents } from "../../src/pipeline/process";
import { findCustomer } from "../../src/profiles/read";

const base = Date.UTC(2026, 0, 1);

/** Events of one person: tracks and identifies with colliding traits and timestamps. */
const personEvents = fc.array(
  fc.record({
    kind: fc.constantFrom("track", "identify", "page") as fc.Arbitrary<"track" | "identify" | "page">,
    second: fc.integer({ min: 0, max: 5 }),
    plan: fc.constantFrom("free", "pro", "team"),
    name: fc.constantFrom("Viewed", "Added", "Bought"),
  }),
  { minLength: 1, maxLength: 12 },
);

function materialize(userId: string, raw: { kind: "track" | "identify" | "page"; second: number; plan: string; name: string }[]): StoredEvent[] {
  return raw.map((r, i) => ({
    messageId: `${userId}-${i}`,
    type: r.kind,
    userId,
    timestamp: new Date(base + r.second * 1000).toISOString(),
    receivedAt: new Date(base).toISOString(),
    sourceId: "key_prop",
    ...(r.kind === "track" ? { event: r.name } : {}),
    ...(r.kind === "identify" ? { traits: { plan: r.plan, [`seen_${r.name}`]: r.second } } : {}),
  }));
}

/** A delivery schedule: a permutation of the events with some delivered twice, cut into batches. */
const schedule = (n: number) =>
  fc.record({
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    duplicates: fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
    cuts: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
  });

function batches<T>(items: T[], cuts: number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  let c = 0;
  while (i < items.length) {
    const size = cuts[c++ % cuts.length]!;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

describe("profile properties", () => {
  it("applyEvents gives the same state for every order of the same events", () => {
    fc.assert(
      fc.property(personEvents, fc.infiniteStream(fc.nat()), (raw, seeds) => {
        const events = materialize("p", raw);
        const shuffled = [...events].sort(() => (seeds.next().value % 3) - 1);
        expect(applyEvents(emptyProfile(), shuffled)).toEqual(applyEvents(emptyProfile(), events));
      }),
      { numRuns: 200 },
    );
  });

  it("any permutation, duplication and batching of a message set gives the same stored profile", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(personEvents.chain((raw) => fc.tuple(fc.constant(raw), schedule(raw.length))), async ([raw, plan]) => {
        run += 1;
        const userId = `prop-${run}-${crypto.randomUUID().slice(0, 6)}`;
        const events = materialize(userId, raw);
        const delivered = [...plan.order, ...plan.duplicates].map((i) => events[i]!);
        for (const batch of batches(delivered, plan.cuts)) await processEvents(env, batch);

        const found = await findCustomer(env, userId);
        const doc = JSON.parse(found!.body);
        const expected = applyEvents(emptyProfile(), events);
        expect(doc.eventCount).toBe(events.length);
        expect(doc.traits).toEqual(expected.traits);
        expect(doc.counters).toEqual(expected.counters);
        expect(doc.firstSeenAt).toBe(new Date(expected.firstSeenAt!).toISOString());
        expect(doc.lastSeenAt).toBe(new Date(expected.lastSeenAt!).toISOString());
      }),
      { numRuns: 25 },
    );
  });
});
