import { describe, expect, it } from "vitest";
import { ExperimentDefinition, type ExperimentInput } from "../../src/experiments/definition";
import { experimentResults, sampleRatioTest } from "../../src/experiments/results";
import { noTotals, type VariantTotals } from "../../src/experiments/totals";

const definition = (over: Partial<ExperimentInput> = {}) =>
  ExperimentDefinition.parse({ block: "hero", variants: [{ key: "control" }, { key: "b" }], status: "running", minSamplePerArm: 500, expectedSamplePerArm: 5000, ...over });
const arm = (variant: string, exposed: number, converted: number, extra: Partial<VariantTotals> = {}): VariantTotals => ({ ...noTotals(variant), exposed, converted, conversions: converted, ...extra });

describe("the sample-ratio check", () => {
  it("gives the χ² goodness-of-fit p-value", () => {
    // 5,000 against 5,300 at 50/50: χ² = 300²/5150·2 = 8.738, p = 0.0031 (one degree of freedom).
    const near = sampleRatioTest([5000, 5300], [0.5, 0.5])!;
    expect(near.chiSquare).toBeCloseTo(8.738, 3);
    expect(near.pValue).toBeCloseTo(0.00312, 4);
    // χ² = 3.841 at one degree of freedom is p = 0.05; 5.991 at two is p = 0.05.
    expect(sampleRatioTest([1000 + 31, 1000 - 31], [0.5, 0.5])!.pValue).toBeCloseTo(0.166, 2);
    const three = sampleRatioTest([500, 300, 200], [0.5, 0.3, 0.2])!;
    expect(three.chiSquare).toBe(0);
    expect(three.pValue).toBe(1);
    // Too few to say anything.
    expect(sampleRatioTest([3, 4], [0.5, 0.5])).toBeNull();
  });

  it("flags a split against the weights as srm, before any effect", () => {
    const r = experimentResults(definition(), [arm("control", 5000, 500), arm("b", 5600, 900)]);
    expect(r.sampleRatio?.mismatch).toBe(true);
    expect(r.decision.state).toBe("srm");
    expect(r.decision.rule).toContain("sample ratio mismatch");
  });

  it("counts the holdout as an arm of the split", () => {
    const d = definition({ holdout: 0.2 });
    const fine = experimentResults(d, [arm("control", 4000, 400), arm("b", 4000, 400), arm("holdout", 2000, 150)]);
    expect(fine.sampleRatio?.mismatch).toBe(false);
    expect(fine.variants.map((v) => [v.variant, v.expectedShare])).toEqual([
      ["control", 0.4],
      ["b", 0.4],
      ["holdout", 0.2],
    ]);
    expect(experimentResults(d, [arm("control", 4000, 400), arm("b", 4000, 400), arm("holdout", 1500, 150)]).decision.state).toBe("srm");
  });
});

describe("the decision", () => {
  it("collects until every arm has its minimum sample", () => {
    const r = experimentResults(definition(), [arm("control", 499, 10), arm("b", 500, 200)]);
    expect(r.decision.state).toBe("collecting");
    expect(r.decision.rule).toContain("500 exposed customers");
  });

  it("declares the variant whose always-valid interval lies above the control", () => {
    const r = experimentResults(definition(), [arm("control", 2000, 200), arm("b", 2000, 300)]);
    const b = r.variants.find((v) => v.variant === "b")!;
    expect(b.conversionRate).toBe(0.15);
    expect(b.effect!.effect).toBeCloseTo(0.05, 10);
    expect(b.effect!.interval[0]).toBeGreaterThan(0);
    expect(r.decision).toMatchObject({ state: "winner", winner: "b" });
    // The same difference on a tenth of the sample is not enough.
    expect(experimentResults(definition(), [arm("control", 600, 60), arm("b", 600, 90)]).decision.state).toBe("collecting");
  });

  it("splits α over several variants (Bonferroni), so a borderline effect with three challengers waits", () => {
    const three = definition({ variants: [{ key: "control" }, { key: "b" }, { key: "c" }, { key: "d" }] });
    const totals = [arm("control", 2000, 200), arm("b", 2000, 262), arm("c", 2000, 200), arm("d", 2000, 200)];
    const one = experimentResults(definition(), totals.slice(0, 2));
    const many = experimentResults(three, totals);
    expect(one.variants[1]!.effect!.interval[0]).toBeGreaterThan(many.variants[1]!.effect!.interval[0]);
    expect(many.decision.rule).toContain("split over 3 comparisons");
  });

  it("refuses a winner that is significantly worse on a guardrail", () => {
    const r = experimentResults(definition(), [arm("control", 2000, 200, { unsubscribed: 10 }), arm("b", 2000, 300, { unsubscribed: 80 })]);
    expect(r.variants[1]!.guardrailsWorse).toEqual(["unsubscribe"]);
    expect(r.decision.state).toBe("collecting");
  });

  it("says no difference once every arm reached its expected sample without an effect", () => {
    const r = experimentResults(definition({ expectedSamplePerArm: 1000 }), [arm("control", 1000, 100), arm("b", 1000, 101)]);
    expect(r.decision.state).toBe("no_difference");
  });

  it("decides on revenue per exposed customer from the sums of revenue and its squares", () => {
    // 1,000 customers per arm; in b, 100 spent 50.00 (others nothing); in the control, 100 spent 30.00.
    const d = definition({ metric: { primary: "revenue" } });
    const r = experimentResults(d, [arm("control", 1000, 100, { revenue: 100 * 3000, revenueSquares: 100 * 3000 * 3000 }), arm("b", 1000, 100, { revenue: 100 * 5000, revenueSquares: 100 * 5000 * 5000 })]);
    expect(r.variants[1]!.revenuePerExposed).toBe(5);
    expect(r.variants[1]!.effect!.effect).toBeCloseTo(2, 10);
  });

  it("reports shipped and paused experiments as they are", () => {
    expect(experimentResults(definition({ winner: "b" }), []).decision).toMatchObject({ state: "shipped", winner: "b" });
    expect(experimentResults(definition({ status: "paused" }), []).decision.state).toBe("paused");
  });
});
