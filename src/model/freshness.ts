/**
 * How the pipeline counts freshness (ingest to profile written) per minute (pipeline/minutes.ts),
 * and how the alerts and the console read it back: events within 1 s, 5 s, 30 s, and later.
 */
export const FRESHNESS_BOUNDS_MS = [1_000, 5_000, 30_000] as const;

/** The upper bound (ms) of the freshness bucket holding the `p` quantile; the last bucket reads as 60 s. */
export function percentileOf(buckets: readonly number[], p: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const [i, n] of buckets.entries()) {
    seen += n;
    if (seen >= p * total) return FRESHNESS_BOUNDS_MS[i] ?? 60_000;
  }
  return 60_000;
}
