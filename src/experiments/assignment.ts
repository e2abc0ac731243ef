/**
 * Which variant of an experiment a customer gets (issue 24, docs/experiments.md once it exists).
 * Deterministic per customer and experiment, the same at send, open and click time and on every
 * device, with no state: GrowthBook's version-2 hash, so that assignments can be checked against
 * GrowthBook's SDKs and reproduced by anyone from the formula:
 *
 *   n = fnv32a(String(fnv32a(seed + customerId))) % 10000 / 10000
 *
 * where fnv32a is FNV-1a over the string's UTF-16 code units (as GrowthBook's JavaScript SDK
 * computes it; for ASCII ids the same as over UTF-8 bytes). The variant is the one whose range of
 * cumulative weights holds n. The holdout (customers served the block's non-personalized
 * fallback) is decided by a second hash of its own seed, so that changing the variants' weights
 * moves nobody in or out of the holdout.
 *
 * Stability for customers already exposed when weights change is not the hash's job: the caller
 * passes the variant the customer was exposed to, which is kept while it exists.
 */

/** FNV-1a, 32 bits, over UTF-16 code units (GrowthBook's `hashFnv32a`). */
export function fnv32aCodeUnits(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** GrowthBook's version-2 bucket of `value` under `seed`: a number in [0, 1) in steps of 1/10,000. */
export const bucketOf = (seed: string, value: string): number => (fnv32aCodeUnits(String(fnv32aCodeUnits(seed + value))) % 10_000) / 10_000;

export interface Variant {
  key: string;
  /** Relative weight; weights are normalized to sum to 1. */
  weight: number;
}

export interface AssignedExperiment {
  id: string;
  /** The hash seed; the experiment id when not set. Changing it reshuffles everybody. */
  seed?: string;
  variants: readonly Variant[];
  /** Share of customers held out (served the fallback), 0 to 1. */
  holdout?: number;
}

/** The variant key recorded for customers in the holdout. */
export const HOLDOUT = "holdout";

export type Assignment = { holdout: true } | { holdout: false; index: number; key: string };

/** The cumulative ranges of normalized weights: variant i holds [start, end). */
export function variantRanges(variants: readonly Variant[]): [number, number][] {
  const total = variants.reduce((sum, v) => sum + Math.max(0, v.weight), 0);
  if (!(total > 0)) throw new Error("An experiment needs a variant with a positive weight");
  let start = 0;
  return variants.map((v) => {
    const range: [number, number] = [start, start + Math.max(0, v.weight) / total];
    start = range[1];
    return range;
  });
}

/**
 * The customer's variant. `exposed`: the variant key the customer was already exposed to; it is
 * kept while the experiment still has it (GrowthBook drops people who saw two variants; here
 * nobody sees two).
 */
export function assign(experiment: AssignedExperiment, customerId: string, exposed?: string): Assignment {
  const seed = experiment.seed ?? experiment.id;
  if (exposed === HOLDOUT && (experiment.holdout ?? 0) > 0) return { holdout: true };
  const kept = exposed === undefined ? -1 : experiment.variants.findIndex((v) => v.key === exposed);
  if (kept >= 0) return { holdout: false, index: kept, key: experiment.variants[kept]!.key };
  if ((experiment.holdout ?? 0) > 0 && bucketOf(`${seed}:holdout`, customerId) < experiment.holdout!) return { holdout: true };
  const n = bucketOf(seed, customerId);
  const ranges = variantRanges(experiment.variants);
  // The last range ends at 1 up to rounding: a bucket past it belongs to the last weighted variant.
  const found = ranges.findIndex(([start, end]) => n >= start && n < end);
  const index = found >= 0 ? found : ranges.findLastIndex(([start, end]) => end > start);
  return { holdout: false, index, key: experiment.variants[index]!.key };
}
