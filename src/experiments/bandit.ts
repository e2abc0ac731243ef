/**
 * Thompson sampling for experiments in bandit mode (docs/experiments.md, "Bandits"), pure: each
 * variant's weight is the posterior probability that it is the best, estimated by drawing from
 * every arm's posterior and counting who wins.
 *
 * - conversion and click: Beta(1 + successes, 1 + failures) per arm (a uniform prior);
 * - revenue per exposed customer: Normal(mean, s²/n) per arm (its mean's sampling distribution).
 *
 * Until every arm has `burnInPerArm` exposures the split stays equal (early draws are noise);
 * afterwards no arm gets less than `floor`, so a late change in the arms' fortunes can still be
 * seen. Draws come from a seeded generator (@stdlib/random-base-beta, MT19937): the same totals give
 * the same weights.
 */
import betaRandom from "@stdlib/random-base-beta";
import { armOf } from "./arms";
import type { ExperimentDefinition } from "./definition";
import type { VariantTotals } from "./totals";

export interface BanditSettings {
  burnInPerArm: number;
  floor: number;
}

const DRAWS = 4_000;

/** Standard normal draws from a uniform source (Box–Muller). */
function normalFrom(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Each arm's chance of being the best on `metric`, in the order of `arms`. */
export function probabilityBest(arms: readonly VariantTotals[], metric: ExperimentDefinition["metric"]["primary"], seed = 1): number[] {
  const beta = betaRandom.factory({ seed });
  const normal = normalFrom(() => beta(1, 1));
  const draw: (() => number)[] = arms.map((t) => {
    const a = armOf(t, metric);
    if (metric !== "revenue") return () => beta(1 + a.sum, 1 + Math.max(0, a.n - a.sum));
    const mean = a.n > 0 ? a.sum / a.n : 0;
    const variance = a.n > 1 ? Math.max(0, (a.sumSquares - (a.sum * a.sum) / a.n) / (a.n - 1)) : 0;
    const sd = a.n > 0 ? Math.sqrt(variance / a.n) : 0;
    return () => mean + sd * normal();
  });
  const wins = arms.map(() => 0);
  for (let i = 0; i < DRAWS; i++) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < draw.length; k++) {
      const v = draw[k]!();
      if (v > bestValue) {
        bestValue = v;
        best = k;
      }
    }
    wins[best]!++;
  }
  return wins.map((w) => w / DRAWS);
}

/** The weights of the next assignments: equal during the burn-in, then P(best) with a floor per arm. */
export function banditWeights(arms: readonly VariantTotals[], metric: ExperimentDefinition["metric"]["primary"], settings: BanditSettings, seed = 1): number[] {
  if (arms.some((t) => t.exposed < settings.burnInPerArm)) return arms.map(() => 1 / arms.length);
  const p = probabilityBest(arms, metric, seed);
  // Raise the arms under the floor to it, and scale the others down to make room.
  const under = p.map((x) => x < settings.floor);
  const room = 1 - settings.floor * under.filter(Boolean).length;
  const above = p.reduce((sum, x, i) => (under[i] ? sum : sum + x), 0);
  return p.map((x, i) => (under[i] ? settings.floor : above > 0 ? (x / above) * room : room / (p.length - under.filter(Boolean).length)));
}

/**
 * The expected cost of learning so far: outcomes lost against showing every exposed customer the
 * arm that looks best now (by posterior mean), in the metric's units (conversions, clicks, revenue).
 */
export function expectedRegret(arms: readonly VariantTotals[], metric: ExperimentDefinition["metric"]["primary"]): number {
  const means = arms.map((t) => {
    const a = armOf(t, metric);
    return metric === "revenue" ? (a.n > 0 ? a.sum / a.n : 0) : (1 + a.sum) / (2 + a.n);
  });
  const best = Math.max(...means);
  return arms.reduce((sum, t, i) => sum + t.exposed * (best - means[i]!), 0);
}
