/**
 * How the pipeline counts freshness (ingest to profile written) per minute (pipeline/minutes.ts),
 * and how the alerts and the console read it back: events within 1 s, 5 s, 30 s, and later.
 */
export const FRESHNESS_BOUNDS_MS = [1_000, 5_000, 30_000] as const;
