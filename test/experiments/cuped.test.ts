import { describe, expect, it } from "vitest";
import { cupedArms } from "../../src/experiments/arms";
import { ExperimentDefinition } from "../../src/experiments/definition";
import { experimentResults } from "../../src/experiments/results";
import { compareArms } from "../../src/experiments/sequential";
import { noTotals, type VariantTotals } from "../../src/experiments/totals";
// Seeded (mulberry32): the simulations give the same answer every run.
import { random } from "../../tools/sim/random";

/**
 * Customers whose chance of converting grows with how much they ordered before (the covariate,
 * 0–4 earlier orders): 2 % plus 22 points per earlier order, plus `lift` in the variant.
 */
function simulate(seed: number, customers: number, lift: number, onLook?: (arms: VariantTotals[]) => void, looks = 1) {
  const next = random(seed);
  const arms = [noTotals("control"), noTotals("b")];
  for (let i = 1; i <= customers; i++) {
    const k = next() < 0.5 ? 0 : 1;
    const before = Math.floor(next() * 5);
    const converted = next() < 0.02 + 0.22 * before + (k === 1 ? lift : 0) ? 1 : 0;
    const t = arms[k]!;
    t.exposed++;
    t.converted += converted;
    t.conversions += converted;
    const c = t.covariates.conversion;
    c.sum += before;
    c.squares += before * before;
    c.cross += before * converted;
    if (onLook && i % Math.floor(customers / looks) === 0) onLook(arms);
  }
  return arms;
}

const plain = (arms: VariantTotals[]) => compareArms({ n: arms[0]!.exposed, sum: arms[0]!.converted, sumSquares: arms[0]!.converted }, { n: arms[1]!.exposed, sum: arms[1]!.converted, sumSquares: arms[1]!.converted });
const adjusted = (arms: VariantTotals[]) => {
  const c = cupedArms(arms, "conversion")!;
  return compareArms(c.arms[0]!, c.arms[1]!);
};
const width = (r: { interval: [number, number] } | null) => r!.interval[1] - r!.interval[0];

describe("CUPED", () => {
  it("narrows the interval by the share of variance the pre-exposure covariate explains, without moving the effect", () => {
    const runs = Array.from({ length: 40 }, (_, s) => simulate(s + 1, 4000, 0.03));
    const ratio = runs.map((arms) => width(adjusted(arms)) / width(plain(arms)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // The covariate explains about two fifths of the variance here: intervals about a fifth narrower.
    const reduction = cupedArms(runs[0]!, "conversion")!.varianceReduction;
    expect(reduction).toBeGreaterThan(0.3);
    expect(mean(ratio)).toBeLessThan(0.85);
    expect(mean(ratio)).toBeCloseTo(Math.sqrt(1 - reduction), 1);
    // Unbiased: the adjusted effects average the planted lift as the plain ones do.
    expect(mean(runs.map((arms) => adjusted(arms)!.effect))).toBeCloseTo(0.03, 2);
    expect(mean(runs.map((arms) => plain(arms)!.effect))).toBeCloseTo(0.03, 2);
  });

  it("keeps the chance of a false winner under α when watched continuously", () => {
    // 200 A/A experiments of 4,000 customers, each looked at 40 times.
    let false_ = 0;
    for (let s = 1; s <= 200; s++) {
      let called = false;
      simulate(10_000 + s, 4000, 0, (arms) => {
        if (arms.every((a) => a.exposed > 20) && adjusted(arms)?.significant) called = true;
      }, 40);
      if (called) false_++;
    }
    expect(false_ / 200).toBeLessThanOrEqual(0.05);
  });

  it("is used by the results when the covariate varies, and said so", () => {
    const arms = simulate(3, 4000, 0.03);
    const d = ExperimentDefinition.parse({ block: "hero", variants: [{ key: "control" }, { key: "b" }], status: "running", minSamplePerArm: 100 });
    const r = experimentResults(d, arms);
    expect(r.cuped.applied).toBe(true);
    expect(r.cuped.varianceReduction).toBeGreaterThan(0.3);
    expect(r.decision.rule).toContain("CUPED");
    const off = experimentResults({ ...d, metric: { ...d.metric, cuped: false } }, arms);
    expect(off.cuped.applied).toBe(false);
    expect(width(r.variants[1]!.effect)).toBeLessThan(width(off.variants[1]!.effect));
    // Without any history (every covariate 0) there is nothing to adjust with.
    const flat = arms.map((a) => ({ ...a, covariates: noTotals(a.variant).covariates }));
    expect(experimentResults(d, flat).cuped.applied).toBe(false);
  });
});
