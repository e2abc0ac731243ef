import { describe, expect, it } from "vitest";
import { assign, bucketOf, fnv32aCodeUnits, variantRanges } from "../../src/experiments/assignment";
import { fnv1a32 } from "../../src/kernel/fnv";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `cus_${i.toString(36)}_${(i * 7919) % 1000}`);

/** Pearson's χ² statistic of observed counts against expected shares. */
const chiSquare = (counts: number[], shares: number[], total: number) => counts.reduce((sum, c, i) => sum + (c - total * shares[i]!) ** 2 / (total * shares[i]!), 0);

describe("experiment assignment (GrowthBook's version-2 hash)", () => {
  it("hashes with FNV-1a over code units: the published FNV-1a vectors, and the same as the byte hash for ASCII", () => {
    expect(fnv32aCodeUnits("")).toBe(0x811c9dc5);
    expect(fnv32aCodeUnits("a")).toBe(0xe40c292c);
    expect(fnv32aCodeUnits("foobar")).toBe(0xbf9cf968);
    for (const id of ids(50)) expect(fnv32aCodeUnits(id)).toBe(fnv1a32(id));
    // The bucket is the formula, in steps of 1/10,000.
    expect(bucketOf("exp", "cus_1")).toBe((fnv32aCodeUnits(String(fnv32aCodeUnits("expcus_1"))) % 10_000) / 10_000);
  });

  it("splits customers by the weights (χ² well under the 0.001 critical value) and gives each the same variant every time", () => {
    const experiment = { id: "hero-image", variants: [{ key: "a", weight: 50 }, { key: "b", weight: 30 }, { key: "c", weight: 20 }] };
    const customers = ids(20_000);
    const counts = [0, 0, 0];
    for (const id of customers) {
      const a = assign(experiment, id);
      expect(a.holdout).toBe(false);
      if (!a.holdout) counts[a.index]!++;
      expect(assign(experiment, id)).toEqual(a);
    }
    // 2 degrees of freedom: the 0.001 critical value is 13.8.
    expect(chiSquare(counts, [0.5, 0.3, 0.2], customers.length)).toBeLessThan(13.8);
    // Another experiment's seed shuffles customers independently of this one.
    const other = { ...experiment, id: "subject-line" };
    const same = customers.filter((id) => (assign(other, id) as { key: string }).key === (assign(experiment, id) as { key: string }).key).length;
    expect(same / customers.length).toBeCloseTo(0.5 * 0.5 + 0.3 * 0.3 + 0.2 * 0.2, 1);
  });

  it("keeps the holdout the same when weights change, and keeps an exposed customer's variant", () => {
    const before = { id: "offer", holdout: 0.1, variants: [{ key: "a", weight: 1 }, { key: "b", weight: 1 }] };
    const after = { ...before, variants: [{ key: "a", weight: 1 }, { key: "b", weight: 3 }] };
    const customers = ids(5_000);
    const held = customers.filter((id) => assign(before, id).holdout);
    expect(held.length / customers.length).toBeGreaterThan(0.08);
    expect(held.length / customers.length).toBeLessThan(0.12);
    expect(customers.filter((id) => assign(after, id).holdout)).toEqual(held);
    // Someone exposed to "a" stays on "a" after the change; a variant that is gone is reassigned.
    const movedByChange = customers.find((id) => !assign(before, id).holdout && (assign(before, id) as { key: string }).key === "a" && (assign(after, id) as { key: string }).key === "b")!;
    expect(movedByChange).toBeDefined();
    expect(assign(after, movedByChange, "a")).toEqual({ holdout: false, index: 0, key: "a" });
    expect(assign(after, movedByChange, "gone")).toEqual(assign(after, movedByChange));
  });

  it("never picks a variant of zero weight, and refuses an experiment with no weight", () => {
    const experiment = { id: "x", variants: [{ key: "off", weight: 0 }, { key: "on", weight: 1 }] };
    for (const id of ids(2_000)) expect((assign(experiment, id) as { key: string }).key).toBe("on");
    expect(variantRanges(experiment.variants)).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(() => variantRanges([{ key: "a", weight: 0 }])).toThrow(/positive weight/);
  });
});
