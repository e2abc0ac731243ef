/**
 * An experiment's results from its tally (experiments/tally.ts), pure (docs/experiments.md):
 * per variant the exposures and outcomes, the effect on the primary metric against the control
 * with its always-valid interval (sequential.ts), guardrails, the sample-ratio check, and the
 * decision with the rule that made it.
 *
 * Decision rules, in order:
 *   1. shipped / paused: what the definition says.
 *   2. srm: the exposures split differs from the weights (χ² goodness of fit, p < 0.001): the
 *      assignment or the counting is broken, no effect can be trusted.
 *   3. collecting: an arm has fewer than `minSamplePerArm` exposed customers.
 *   4. winner: a variant's always-valid interval against the control lies above 0 (α split evenly
 *      over the comparisons: Bonferroni) and no guardrail of it is significantly worse; with
 *      several, the largest effect. The control wins when every variant is significantly worse.
 *   5. no_difference: every arm has reached `expectedSamplePerArm` and nothing is significant.
 *   6. collecting otherwise.
 */
import chisquareCdf from "@stdlib/stats-base-dists-chisquare-cdf";
import { HOLDOUT, variantRanges } from "./assignment";
import type { ExperimentDefinition } from "./definition";
import { compareArms, type SequentialResult } from "./sequential";
import { expectedRegret, probabilityBest } from "./bandit";
import { armOf, cupedArms } from "./arms";
import { noTotals, type VariantTotals } from "./totals";

export const SRM_P_VALUE = 0.001;

export type DecisionState = "collecting" | "winner" | "no_difference" | "srm" | "paused" | "shipped";

export interface VariantResult {
  variant: string;
  control: boolean;
  /** Share of exposures the weights ask for. */
  expectedShare: number;
  exposures: number;
  conversions: number;
  /** Customers who converted / exposures. */
  conversionRate: number;
  clickRate: number;
  /** Revenue (major units) per exposed customer. */
  revenuePerExposed: number;
  unsubscribeRate: number;
  complaintRate: number;
  /** The primary metric against the control (null for the control, the holdout, or too little data). */
  effect: SequentialResult | null;
  /** Guardrails significantly worse than the control's. */
  guardrailsWorse: string[];
}

export interface ExperimentResults {
  primaryMetric: ExperimentDefinition["metric"]["primary"];
  variants: VariantResult[];
  /** CUPED on the primary metric: applied when asked for and the pre-exposure covariate varies. */
  cuped: { applied: boolean; theta: number | null; varianceReduction: number | null };
  /** Null for bandits: their split follows the outcomes, not the weights. */
  sampleRatio: { chiSquare: number; pValue: number; mismatch: boolean } | null;
  /** Bandit mode: each variant's chance of being best, the split served now, and the outcomes lost to learning. */
  bandit?: { probabilityBest: Record<string, number>; weights: Record<string, number> | null; regret: number };
  decision: { state: DecisionState; winner: string | null; rule: string };
}


/** χ² goodness of fit of observed counts to expected shares (arms expected to get none are left out). */
export function sampleRatioTest(observed: readonly number[], shares: readonly number[]): { chiSquare: number; pValue: number } | null {
  const total = observed.reduce((a, b) => a + b, 0);
  const arms = observed.map((o, i) => ({ o, e: total * shares[i]! })).filter((a) => a.e > 0);
  // The χ² approximation needs about 5 expected per arm.
  if (arms.length < 2 || arms.some((a) => a.e < 5)) return null;
  const chiSquare = arms.reduce((sum, a) => sum + ((a.o - a.e) * (a.o - a.e)) / a.e, 0);
  return { chiSquare, pValue: 1 - chisquareCdf(chiSquare, arms.length - 1) };
}

/** A bandit's winner: the leader's chance of being best must reach this. */
export const BANDIT_WIN_PROBABILITY = 0.95;

/** `weights`: the split a bandit serves now (the tally's), shown with its results. */
export function experimentResults(d: ExperimentDefinition, totals: readonly VariantTotals[], weights: Record<string, number> | null = null): ExperimentResults {
  const byKey = new Map(totals.map((t) => [t.variant, t]));
  const ranges = variantRanges(d.variants);
  const arms = d.variants.map((v, i) => ({ key: v.key, share: (1 - d.holdout) * (ranges[i]![1] - ranges[i]![0]), totals: byKey.get(v.key) ?? noTotals(v.key) }));
  if (d.holdout > 0) arms.push({ key: HOLDOUT, share: d.holdout, totals: byKey.get(HOLDOUT) ?? noTotals(HOLDOUT) });
  const control = arms[0]!.totals;
  // CUPED over the variants (not the holdout), on the primary metric only.
  const played = arms.filter((a) => a.key !== HOLDOUT);
  const cuped = d.metric.cuped ? cupedArms(played.map((a) => a.totals), d.metric.primary) : null;
  const primary = (i: number) => cuped?.arms[i] ?? armOf(arms[i]!.totals, d.metric.primary);
  const comparisons = d.variants.length - 1;
  const alpha = d.alpha / comparisons;
  const expected = d.expectedSamplePerArm * 2;

  const variants: VariantResult[] = arms.map((a, i) => {
    const t = a.totals;
    const n = t.exposed;
    const rate = (x: number) => (n > 0 ? x / n : 0);
    const compared = i > 0 && a.key !== HOLDOUT;
    const worse = compared ? (["unsubscribe", "complaint"] as const).filter((g) => (compareArms(armOf(control, g), armOf(t, g), alpha, expected)?.interval[0] ?? 0) > 0) : [];
    return {
      variant: a.key,
      control: i === 0,
      expectedShare: a.share,
      exposures: n,
      conversions: t.conversions,
      conversionRate: rate(t.converted),
      clickRate: rate(t.clicked),
      revenuePerExposed: rate(t.revenue / 100),
      unsubscribeRate: rate(t.unsubscribed),
      complaintRate: rate(t.complained),
      effect: compared ? compareArms(primary(0), primary(i), alpha, expected) : null,
      guardrailsWorse: worse,
    };
  });

  const srm = d.bandit
    ? null
    : sampleRatioTest(
        arms.map((a) => a.totals.exposed),
        arms.map((a) => a.share),
      );
  const sampleRatio = srm ? { ...srm, mismatch: srm.pValue < SRM_P_VALUE } : null;
  const rule = `mixture SPRT${cuped ? " on CUPED-adjusted means" : ""}, α = ${d.alpha} split over ${comparisons} comparison${comparisons > 1 ? "s" : ""} (${round(alpha)} each), at least ${d.minSamplePerArm} exposed per arm, no worse guardrail, sample ratio χ² p ≥ ${SRM_P_VALUE}`;
  const cupedView = { applied: cuped !== null, theta: cuped?.theta ?? null, varianceReduction: cuped?.varianceReduction ?? null };
  if (!d.bandit) return { primaryMetric: d.metric.primary, variants, sampleRatio, cuped: cupedView, decision: decide(d, variants, sampleRatio, rule) };
  const p = probabilityBest(
    played.map((a) => a.totals),
    d.metric.primary,
  );
  const bandit = { probabilityBest: Object.fromEntries(played.map((a, i) => [a.key, p[i]!])), weights, regret: expectedRegret(played.map((a) => a.totals), d.metric.primary) };
  return { primaryMetric: d.metric.primary, variants, sampleRatio, cuped: cupedView, bandit, decision: decideBandit(d, variants, bandit.probabilityBest) };
}

/** A bandit's decision: the leader once its chance of being best reaches 95 % with its minimum sample. */
function decideBandit(d: ExperimentDefinition, variants: readonly VariantResult[], best: Record<string, number>): ExperimentResults["decision"] {
  if (d.winner !== undefined) return { state: "shipped", winner: d.winner, rule: "shipped: every customer gets the winner" };
  if (d.status === "paused") return { state: "paused", winner: null, rule: "paused: every customer gets the control" };
  const [leader, chance] = Object.entries(best).sort((a, b) => b[1] - a[1])[0]!;
  const exposures = variants.find((v) => v.variant === leader)?.exposures ?? 0;
  const rule = `Thompson sampling: the leader's chance of being best (now ${round(chance)}) must reach ${BANDIT_WIN_PROBABILITY}, with at least ${d.minSamplePerArm} exposed customers`;
  if (chance >= BANDIT_WIN_PROBABILITY && exposures >= d.minSamplePerArm) return { state: "winner", winner: leader, rule };
  return { state: "collecting", winner: null, rule };
}

function decide(d: ExperimentDefinition, variants: readonly VariantResult[], srm: ExperimentResults["sampleRatio"], rule: string): ExperimentResults["decision"] {
  if (d.winner !== undefined) return { state: "shipped", winner: d.winner, rule: "shipped: every customer gets the winner" };
  if (d.status === "paused") return { state: "paused", winner: null, rule: "paused: every customer gets the control" };
  if (srm?.mismatch) return { state: "srm", winner: null, rule: `sample ratio mismatch: χ² = ${round(srm.chiSquare)}, p = ${srm.pValue.toExponential(2)} < ${SRM_P_VALUE}` };
  const arms = variants.filter((v) => v.variant !== HOLDOUT);
  if (arms.some((v) => v.exposures < d.minSamplePerArm)) return { state: "collecting", winner: null, rule: `collecting: every arm needs ${d.minSamplePerArm} exposed customers (${rule})` };
  const challengers = arms.filter((v) => !v.control);
  const better = challengers.filter((v) => v.effect?.significant && v.effect.effect > 0 && v.guardrailsWorse.length === 0).sort((a, b) => b.effect!.effect - a.effect!.effect);
  if (better[0]) return { state: "winner", winner: better[0].variant, rule };
  if (challengers.every((v) => v.effect?.significant && v.effect.effect < 0)) return { state: "winner", winner: arms[0]!.variant, rule: `every variant is significantly worse than the control (${rule})` };
  if (arms.every((v) => v.exposures >= d.expectedSamplePerArm) && !challengers.some((v) => v.effect?.significant)) return { state: "no_difference", winner: null, rule: `no difference: every arm reached ${d.expectedSamplePerArm} exposed customers without a significant effect (${rule})` };
  return { state: "collecting", winner: null, rule };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
