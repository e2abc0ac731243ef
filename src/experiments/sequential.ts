/**
 * Statistics that stay valid however often anyone looks: a mixture sequential probability ratio
 * test (Johari, Koomen, Pekelis and Walsh, "Peeking at A/B tests", 2017) on the difference of two
 * arms' means, with the normal mixture that GrowthBook's sequential testing also uses (Howard,
 * Ramdas, McAuliffe and Sekhon, 2021), tuned by an expected sample size.
 *
 * For a variant against the control, with n exposures, mean x̄ and sample variance s² per arm:
 *
 *   Δ = x̄_v − x̄_c                                   the effect
 *   V = s_v²/n_v + s_c²/n_c                            its variance
 *   τ² = (n_v + n_c)·V · ρ²,   ρ² = (−2 ln α + ln(−2 ln α + 1)) / N*     the mixture's variance
 *   Λ = √(V / (V + τ²)) · exp(τ² Δ² / (2 V (V + τ²)))                   the mixture likelihood ratio
 *   p = min(1, 1/Λ)                                    an always-valid p-value
 *   Δ ± √(2 V (V + τ²) / τ² · (ln(1/α) + ½ ln((V + τ²)/V)))          the always-valid interval
 *
 * Under no difference, the chance that p ever falls below α, at any of any number of looks, is at
 * most α (Ville's inequality on the ratio, a martingale). The running minimum of p would be valid
 * too; the p of the current look alone is larger, so also valid, and needs no stored history.
 * Several variants against one control: α is divided among them (Bonferroni), which keeps the
 * chance of any false winner under α.
 */

export interface ArmSummary {
  /** Customers exposed. */
  n: number;
  /** Sum of the metric over them (conversions, or revenue). */
  sum: number;
  /** Sum of the squared metric (equal to `sum` for a 0/1 conversion). */
  sumSquares: number;
}

export interface SequentialResult {
  effect: number;
  /** Always-valid interval of the effect (variant − control) at level 1 − α. */
  interval: [number, number];
  pValue: number;
  /** The interval excludes 0. */
  significant: boolean;
}

const meanOf = (a: ArmSummary) => a.sum / a.n;
/** Unbiased sample variance from the sums. */
const varianceOf = (a: ArmSummary) => (a.n > 1 ? Math.max(0, (a.sumSquares - (a.sum * a.sum) / a.n) / (a.n - 1)) : 0);

/** ρ² of the normal mixture, tightest around `expectedSample` exposures (GrowthBook's default 5,000). */
export const mixtureRho2 = (alpha: number, expectedSample: number) => (-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / expectedSample;

/**
 * The always-valid comparison of `variant` with `control` at level 1 − `alpha`, or null while
 * either arm has no variance to estimate (fewer than two exposures, or all alike).
 */
export function compareArms(control: ArmSummary, variant: ArmSummary, alpha = 0.05, expectedSample = 5_000): SequentialResult | null {
  if (control.n < 2 || variant.n < 2) return null;
  const effect = meanOf(variant) - meanOf(control);
  const v = varianceOf(variant) / variant.n + varianceOf(control) / control.n;
  if (!(v > 0)) return null;
  const tau2 = (variant.n + control.n) * v * mixtureRho2(alpha, expectedSample);
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * effect * effect) / (2 * v * (v + tau2));
  const pValue = Math.min(1, Math.exp(-logLambda));
  const halfWidth = Math.sqrt(((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v)));
  const interval: [number, number] = [effect - halfWidth, effect + halfWidth];
  return { effect, interval, pValue, significant: interval[0] > 0 || interval[1] < 0 };
}
