import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { mergeStates } from "../../src/profiles/merge";

const arbEvents = fc.array(
  fc.record({ kind: fc.constantFrom("track", "identify") as fc.Arbitrary<"track" | "identify">, s: fc.integer({ min: 0, max: 9 }), plan: fc.constantFrom("a", "b", "c"), consent: fc.boolean() }),
  { maxLength: 10 },
);

const toEvents = (prefix: string, raw: { kind: "track" | "identify"; s: number; plan: string; consent: boolean }[]): StoredEvent[] =>
  raw.map((r, i) => ({
    messageId: `${prefix}${i}`,
    type: r.kind,
    anonymousId: prefix,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, r.s)).toISOString(),
    receivedAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    sourceId: "k",
    ...(r.kind === "track" ? { event: `E${r.s % 3}` } : { traits: { plan: r.plan, [`t${r.s}`]: r.s } }),
    ...(r.consent ? { context: { consent: { categoryPreferences: { Email: r.s % 2 === 0 } } } } : {}),
  }));

describe("merging profiles", () => {
  it("gives the profile that all the events would have built together, whichever absorbs the other", () => {
    fc.assert(
      fc.property(arbEvents, arbEvents, (ra, rb) => {
        const a = toEvents("a", ra);
        const b = toEvents("b", rb);
        const together = applyEvents(emptyProfile(), [...a, ...b]);
        const merged = mergeStates(applyEvents(emptyProfile(), a), applyEvents(emptyProfile(), b));
        const mergedOtherWay = mergeStates(applyEvents(emptyProfile(), b), applyEvents(emptyProfile(), a));
        expect(merged).toEqual(together);
        expect(mergedOtherWay).toEqual(together);
      }),
      { numRuns: 300 },
    );
  });
});
