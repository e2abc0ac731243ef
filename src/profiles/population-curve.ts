/**
 * The population curve: when the shop's customers read email, by local hour, the prior every
 * customer's send-time estimate is shrunk towards (profiles/send-time.ts). Learned from the shop's
 * own customers: each commit adds its customers' new engagement by hour to `send_time_hours` (in
 * their shard, with their profiles), a cron sums the shards into KV every ten minutes
 * (maintenance/population-curve.ts), and each isolate reads it at most every ten minutes.
 *
 * The learned curve is itself shrunk towards a default shape, worth DEFAULT_CURVE_WEIGHT
 * engagements: a new shop starts from the default, and its own customers' pattern takes over
 * after about that many opens, clicks and orders.
 */

/**
 * The default shape: low at night, rising through the morning, a lunchtime and an evening peak.
 * A shape, not anyone's data: only where the shop's own engagement is thin.
 */
export const DEFAULT_POPULATION_CURVE: readonly number[] = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.4, 3.4, 3.6, 3.4, 3.3, 3.8, 3.6, 3.2, 3.0, 3.0, 3.2, 3.6, 4.0, 4.1, 3.7, 2.8, 1.8];

/** How many engagements the default shape is worth against the shop's own. */
export const DEFAULT_CURVE_WEIGHT = 1_000;

/** The KV key (PROFILES) of the learned curve: `{ hours, engagements, at }`. */
export const POPULATION_CURVE_KEY = "engagement:population-curve";

export interface LearnedCurve {
  /** Weighted engagements by local hour, summed over every customer. */
  hours: number[];
  engagements: number;
  /** When it was summed (ms). */
  at: number;
}

/** The curve from the shop's engagement totals by hour: the default shape worth DEFAULT_CURVE_WEIGHT, plus them. */
export function curveFrom(totals: readonly number[]): number[] {
  const scale = DEFAULT_CURVE_WEIGHT / DEFAULT_POPULATION_CURVE.reduce((a, b) => a + b, 0);
  return DEFAULT_POPULATION_CURVE.map((p, h) => p * scale + Math.max(0, totals[h] ?? 0));
}

let current: readonly number[] = DEFAULT_POPULATION_CURVE;

/** The curve estimates use in this isolate: the learned one once read, else the default. */
export const populationCurve = (): readonly number[] => current;

export function usePopulationCurve(curve: readonly number[]): void {
  if (curve.length === 24 && curve.every((x) => Number.isFinite(x) && x >= 0) && curve.some((x) => x > 0)) current = curve;
}

const TTL_MS = 10 * 60_000;
let readAt = -Infinity;
let reading: Promise<void> | null = null;

/**
 * Makes sure this isolate holds the learned curve, read from KV at most every ten minutes (one
 * read shared by the requests that arrive meanwhile). A failed read keeps the curve held.
 */
export async function loadPopulationCurve(kv: KVNamespace, now = Date.now()): Promise<void> {
  if (now - readAt < TTL_MS) return;
  reading ??= (async () => {
    try {
      const learned = await kv.get<LearnedCurve>(POPULATION_CURVE_KEY, "json");
      if (learned) usePopulationCurve(curveFrom(learned.hours));
      readAt = Date.now();
    } catch {
      // Kept: the curve held (or the default) serves until the next read.
    } finally {
      reading = null;
    }
  })();
  await reading;
}

/** For tests: forget the learned curve. */
export function resetPopulationCurve(): void {
  current = DEFAULT_POPULATION_CURVE;
  readAt = -Infinity;
}
