/** An arm's metric as the statistics read it, from its tally totals. */
import type { ExperimentDefinition } from "./definition";
import type { ArmSummary } from "./sequential";
import type { VariantTotals } from "./totals";

/** The arm summary of a metric: 0/1 per customer for rates, revenue in major units. */
export function armOf(t: VariantTotals, metric: ExperimentDefinition["metric"]["primary"] | "unsubscribe" | "complaint"): ArmSummary {
  switch (metric) {
    case "conversion":
      return { n: t.exposed, sum: t.converted, sumSquares: t.converted };
    case "click":
      return { n: t.exposed, sum: t.clicked, sumSquares: t.clicked };
    case "revenue":
      return { n: t.exposed, sum: t.revenue / 100, sumSquares: t.revenueSquares / 10_000 };
    case "unsubscribe":
      return { n: t.exposed, sum: t.unsubscribed, sumSquares: t.unsubscribed };
    case "complaint":
      return { n: t.exposed, sum: t.complained, sumSquares: t.complained };
  }
}


/** CUPED's adjustment of a set of arms on one metric, or null when the covariate cannot help (it never varies). */
export interface Cuped {
  arms: ArmSummary[];
  /** The regression coefficient of the metric on its pre-exposure covariate, pooled within arms. */
  theta: number;
  /** Share of the metric's variance removed (pooled over the arms). */
  varianceReduction: number;
}

/**
 * CUPED (Deng, Xu, Kohavi and Walker, 2013): each arm's mean is adjusted by its covariate's
 * deviation from the overall covariate mean, ȳ_k − θ(x̄_k − x̄), with θ = cov(x, y) / var(x)
 * pooled within arms; the adjusted variance is var(y) − 2θ·cov(x, y) + θ²·var(x). The covariate
 * was fixed before exposure, so the adjustment removes noise without biasing the effect. Returned
 * as arm summaries with the adjusted mean and variance, for the same sequential test.
 */
export function cupedArms(totals: readonly VariantTotals[], metric: ExperimentDefinition["metric"]["primary"]): Cuped | null {
  // The metric in its units (revenue in major units) and the covariate's sums.
  const scale = metric === "revenue" ? 100 : 1;
  const parts = totals.map((t) => {
    const y = armOf(t, metric);
    const c = t.covariates[metric];
    const n = y.n;
    const mean = (v: number) => (n > 0 ? v / n : 0);
    const varY = n > 1 ? (y.sumSquares - (y.sum * y.sum) / n) / (n - 1) : 0;
    const varX = n > 1 ? (c.squares - (c.sum * c.sum) / n) / (n - 1) : 0;
    const cov = n > 1 ? (c.cross / scale - (c.sum * y.sum) / n) / (n - 1) : 0;
    return { n, meanY: mean(y.sum), meanX: mean(c.sum), varY, varX, cov };
  });
  const pooledVarX = parts.reduce((s, p) => s + Math.max(0, p.n - 1) * p.varX, 0);
  if (!(pooledVarX > 0)) return null;
  const theta = parts.reduce((s, p) => s + Math.max(0, p.n - 1) * p.cov, 0) / pooledVarX;
  const total = parts.reduce((s, p) => s + p.n, 0);
  const meanX = parts.reduce((s, p) => s + p.n * p.meanX, 0) / total;
  let before = 0;
  let after = 0;
  const arms = parts.map((p) => {
    const mean = p.meanY - theta * (p.meanX - meanX);
    const variance = Math.max(0, p.varY - 2 * theta * p.cov + theta * theta * p.varX);
    before += Math.max(0, p.n - 1) * p.varY;
    after += Math.max(0, p.n - 1) * variance;
    const sum = p.n * mean;
    return { n: p.n, sum, sumSquares: Math.max(0, p.n - 1) * variance + (p.n > 0 ? (sum * sum) / p.n : 0) };
  });
  return { arms, theta, varianceReduction: before > 0 ? 1 - after / before : 0 };
}
