/**
 * RFM scores and customer lifetime value.
 *
 * RFM ranks a customer against everyone who has ordered: recency (days since the last order),
 * frequency (orders) and monetary (revenue, main currency) each scored 1–5 by quintile, 5 the
 * best. The quintile cuts are a property of the population, not of one profile: they are
 * recomputed daily (before the segment pass) from a scan of the profiles' computed traits and kept
 * in KV; each profile's scores are then a lookup, done on every write like the other scores.
 *
 * Lifetime value: historical = revenue so far (main currency); predicted (next 12 months) =
 * average order value × expected orders in a year × the chance they are still a customer
 * (1 − churn risk when the churn model is published, else a decay of 180 days since the last
 * order). Expected orders in a year are the customer's orders over their years since the first
 * order, each side plus one year of one order: a first order last week does not predict 50 a year.
 * A documented heuristic, not a fitted model.
 */
import { shards } from "../db/shards";
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import type { ComputedState } from "../profiles/computed";

const DAY_MS = 86_400_000;
const KV_KEY = "rfm:thresholds";
const CACHE_MS = 60_000;
const SCAN_PAGE = 5_000;

export interface RfmThresholds {
  computedAt: string;
  /** Customers with at least one order when the cuts were computed. */
  population: number;
  /** Four ascending cuts (20th, 40th, 60th, 80th percentiles) per dimension. */
  recencyDays: number[];
  frequency: number[];
  monetary: number[];
}

/** The main currency (most revenue) and its [revenue in minor units, orders]. */
export function mainRevenue(c: ComputedState): { currency: string | null; cents: number; orders: number } {
  const currency = Object.keys(c.revenue).sort((x, y) => c.revenue[y]![0] - c.revenue[x]![0] || x.localeCompare(y))[0];
  if (currency === undefined) return { currency: null, cents: 0, orders: 0 };
  const [cents, orders] = c.revenue[currency]!;
  return { currency: currency || null, cents, orders };
}

const quintile = (cuts: readonly number[], value: number) => 1 + cuts.filter((cut) => value > cut).length;

/** [recency, frequency, monetary] scores 1–5, or null for someone who never ordered (or no cuts yet). */
export function rfmOf(t: RfmThresholds | null, c: ComputedState | undefined, now: number): [number, number, number] | null {
  if (!t || !c || c.orders === 0 || c.lastOrderAt === null) return null;
  const recency = (now - c.lastOrderAt) / DAY_MS;
  // Fewer days since the last order is better: the score is reversed.
  return [6 - quintile(t.recencyDays, recency), quintile(t.frequency, c.orders), quintile(t.monetary, mainRevenue(c).cents / 100)];
}

export function clvOf(c: ComputedState | undefined, now: number, churnRisk: number | undefined): { historical: number; predicted: number; currency: string | null } | null {
  if (!c) return null;
  const { currency, cents, orders } = mainRevenue(c);
  if (c.orders === 0 || c.firstOrderAt === null || c.lastOrderAt === null) return { historical: 0, predicted: 0, currency };
  const aov = orders > 0 ? cents / orders / 100 : 0;
  const years = Math.max(0, now - c.firstOrderAt) / DAY_MS / 365;
  // Shrunk toward one order a year (a prior worth one year): steady for new and old customers alike.
  const perYear = (c.orders + 1) / (years + 1);
  const alive = churnRisk !== undefined ? 1 - churnRisk : Math.exp(-Math.max(0, now - c.lastOrderAt) / DAY_MS / 180);
  return { historical: cents / 100, predicted: Math.round(aov * perYear * alive * 100) / 100, currency };
}

/** The value at each fraction of a sorted list. */
function cutsOf(sorted: readonly number[]): number[] {
  if (sorted.length === 0) return [];
  return [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

/** Scans every profile that has ordered (a few JSON fields each) and stores the new cuts. */
export async function refreshRfmThresholds(env: Env, now = Date.now()): Promise<RfmThresholds> {
  const recency: number[] = [];
  const frequency: number[] = [];
  const monetary: number[] = [];
  for (let after = ""; ; ) {
    const results = await shards(env).page(SCAN_PAGE, (d1) =>
      database(d1).all<{ id: string; orders: number; last: number | null; revenue: string }>(
        sql`SELECT id, json_extract(computed, '$.orders') AS orders, json_extract(computed, '$.lastOrderAt') AS last, json_extract(computed, '$.revenue') AS revenue
          FROM customers WHERE id > ${after} AND computed IS NOT NULL ORDER BY id LIMIT ${SCAN_PAGE}`,
      ), (r) => r.id);
    for (const r of results) {
      if (!r.orders || r.last === null) continue;
      recency.push((now - r.last) / DAY_MS);
      frequency.push(r.orders);
      monetary.push(mainRevenue({ revenue: JSON.parse(r.revenue) } as ComputedState).cents / 100);
    }
    if (results.length < SCAN_PAGE) break;
    after = results[results.length - 1]!.id;
  }
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  const thresholds: RfmThresholds = { computedAt: new Date(now).toISOString(), population: frequency.length, recencyDays: cutsOf(sort(recency)), frequency: cutsOf(sort(frequency)), monetary: cutsOf(sort(monetary)) };
  await env.PROFILES.put(KV_KEY, JSON.stringify(thresholds));
  cache = { at: now, thresholds };
  return thresholds;
}

let cache: { at: number; thresholds: RfmThresholds | null } | null = null;

export async function currentRfmThresholds(env: Env, now = Date.now()): Promise<RfmThresholds | null> {
  if (cache && now - cache.at < CACHE_MS) return cache.thresholds;
  const thresholds = await env.PROFILES.get<RfmThresholds>(KV_KEY, { type: "json", cacheTtl: 60 });
  cache = { at: now, thresholds: thresholds && thresholds.population > 0 ? thresholds : null };
  return cache.thresholds;
}

export function forgetRfmThresholds(): void {
  cache = null;
}
