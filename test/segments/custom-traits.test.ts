import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { mergeStates } from "../../src/profiles/merge";
import { aggregateValue } from "../../src/profiles/aggregates";
import { CustomTraitDefinition, TRAIT_KINDS, traitSpec } from "../../src/segments/custom-traits";
import { admin, env, profileWhen, uid } from "../helpers";
import { customerIdOf, DAY, identifyAt, membersOf, putSegment, runFinished, saveSegmentAndWait, trackAt } from "../segment-helpers";

const NOW = Date.UTC(2026, 5, 15, 12);

/** What each kind means, computed the plain way from the matching events. */
function fromScratch(kind: (typeof TRAIT_KINDS)[number], events: StoredEvent[], withinDays: number | undefined, now: number): unknown {
  const from = withinDays === undefined ? -Infinity : (Math.floor(now / DAY) - withinDays) * DAY;
  const matching = events.filter((e) => e.event === "Order Completed" && Date.parse(e.timestamp) >= from);
  const values = matching.map((e) => e.properties!.category as string);
  const amounts = matching.map((e) => e.properties!.revenue as number);
  const byTime = [...matching].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.messageId.localeCompare(b.messageId));
  switch (kind) {
    case "counter":
      return matching.length;
    case "sum":
      return amounts.reduce((s, n) => s + n, 0);
    case "avg":
      return amounts.length ? amounts.reduce((s, n) => s + n, 0) / amounts.length : null;
    case "min":
      return amounts.length ? Math.min(...amounts) : null;
    case "max":
      return amounts.length ? Math.max(...amounts) : null;
    case "most_frequent": {
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
    }
    case "first":
      return byTime[0]?.properties?.category ?? null;
    case "last":
      return byTime.at(-1)?.properties?.category ?? null;
    case "unique_list":
      return [...new Set(values)].sort();
    case "unique_count":
      return new Set(values).size;
  }
}

describe("custom computed traits", () => {
  const anOrder = fc
    .record({ day: fc.integer({ min: 0, max: 40 }), minute: fc.integer({ min: 0, max: 1439 }), revenue: fc.integer({ min: 1, max: 500 }), category: fc.constantFrom("shoes", "bags", "hats", "belts"), name: fc.constantFrom("Order Completed", "Product Viewed") })
    .map(({ day, minute, revenue, category, name }) => trackAt("u", name, { revenue, category }, NOW - day * DAY - minute * 60_000));

  it("equal their definition computed from scratch, for every kind, window, order, batch split and merge", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TRAIT_KINDS), fc.constantFrom(undefined, 7, 30), fc.array(anOrder, { maxLength: 30 }), fc.integer({ min: 0, max: 30 }), (kind, withinDays, events, cut) => {
        const definition = CustomTraitDefinition.parse({ name: "t", kind, event: "Order Completed", property: kind === "sum" || kind === "avg" || kind === "min" || kind === "max" ? "revenue" : "category", withinDays });
        const spec = traitSpec(definition);
        const options = { aggregateSpecs: [spec] };
        const shuffled = [...events].sort((a, b) => a.messageId.localeCompare(b.messageId));
        const inBatches = applyEvents(applyEvents(emptyProfile(), shuffled.slice(0, cut), options), shuffled.slice(cut), options);
        const merged = mergeStates(applyEvents(emptyProfile(), events.slice(cut), options), applyEvents(emptyProfile(), events.slice(0, cut), options));
        const expected = fromScratch(kind, events, withinDays, NOW);
        for (const s of [inBatches, merged]) {
          const value = aggregateValue(s.aggregates, spec, NOW);
          if (kind === "avg" && typeof expected === "number") expect(value as number).toBeCloseTo(expected, 9);
          else expect(value).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("are derived for existing profiles when defined, kept up to date by new events, shown in the profile and usable in segments", async () => {
    const userId = uid("shopper");
    const tag = uid("ct");
    const now = Date.now();
    await processEvents(env, [
      identifyAt(userId, { cohort: tag }),
      trackAt(userId, "Order Completed", { revenue: 100, category: "shoes" }, now - 40 * DAY),
      trackAt(userId, "Order Completed", { revenue: 30, category: "bags" }, now - 5 * DAY),
      trackAt(userId, "Order Completed", { revenue: 20, category: "bags" }, now - 2 * DAY),
    ]);
    const id = uid("t").replaceAll("-", "_");
    const put = (suffix: string, definition: object) => admin(`/v1/computed-traits/${id}_${suffix}`, { method: "PUT", body: JSON.stringify({ name: suffix, event: "Order Completed", ...definition }) });
    const runs: string[] = [];
    for (const [suffix, definition] of Object.entries({
      orders30: { kind: "counter", withinDays: 30 },
      spend: { kind: "sum", property: "revenue" },
      spend30: { kind: "sum", property: "revenue", withinDays: 30 },
      top_category: { kind: "most_frequent", property: "category" },
      first_category: { kind: "first", property: "category" },
      categories: { kind: "unique_list", property: "category" },
    })) {
      const res = await put(suffix, definition);
      expect(res.status).toBe(201);
      runs.push(((await res.json()) as { runId: string }).runId);
    }
    for (const run of runs) await runFinished(run);
    const before = await profileWhen(userId, (p) => Object.keys(p.computedTraits ?? {}).length === 6);
    expect(before.computedTraits).toEqual({ [`${id}_orders30`]: 2, [`${id}_spend`]: 150, [`${id}_spend30`]: 50, [`${id}_top_category`]: "bags", [`${id}_first_category`]: "shoes", [`${id}_categories`]: ["bags", "shoes"] });
    await processEvents(env, [trackAt(userId, "Order Completed", { revenue: 5, category: "hats" })]);
    const after = await profileWhen(userId, (p) => p.computedTraits?.[`${id}_spend`] === 155);
    expect(after.computedTraits[`${id}_orders30`]).toBe(3);
    expect(after.computedTraits[`${id}_categories`]).toEqual(["bags", "hats", "shoes"]);

    const seg = uid("spenders");
    await saveSegmentAndWait(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { computedTrait: `${id}_spend30`, op: "gte", value: 50 }] } });
    expect(await membersOf(seg)).toEqual([await customerIdOf(userId)]);
    expect((await admin(`/v1/computed-traits/${id}_spend30`, { method: "DELETE" })).status).toBe(409);
  });

  it("refuse a definition without the property its kind needs, and a segment naming an unknown trait", async () => {
    const res = await admin("/v1/computed-traits/no_property", { method: "PUT", body: JSON.stringify({ name: "x", kind: "sum", event: "Order Completed" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe("property");
    const seg = await putSegment(uid("seg"), { rule: { computedTrait: "nobody_defined_this", op: "gt", value: 1 } });
    expect(seg.status).toBe(400);
  });
});
