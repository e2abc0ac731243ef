/**
 * Deliveries over time for the console: fired, delivered, retried and failed per bucket, per
 * trigger and per destination host. One grouped read on the `updated_at` index (every delivery
 * fired in the range was updated since it fired), no table kept just for charts. Bucket numbers are
 * cast: D1 binds numbers as reals, so a bare division would not be an integer.
 */
import { and, gte, sql } from "drizzle-orm";
import { database } from "../db/client";
import { deliveries } from "../db/schema";

export interface DeliveryTotals {
  fired: number;
  delivered: number;
  retried: number;
  failed: number;
  pending: number;
}

export interface DeliveryFigures {
  /** Bucket starts, seconds since 1970. */
  times: number[];
  fired: number[];
  delivered: number[];
  failed: number[];
  retried: number[];
  /** Fired per bucket, for each trigger; fired and failed per bucket, for each destination host. */
  firedByTrigger: Record<string, number[]>;
  firedByHost: Record<string, number[]>;
  failedByHost: Record<string, number[]>;
  byTrigger: (DeliveryTotals & { triggerId: string })[];
  byHost: (DeliveryTotals & { host: string; failureRate: number | null })[];
}

const empty = (): DeliveryTotals => ({ fired: 0, delivered: 0, retried: 0, failed: 0, pending: 0 });

export async function deliveryFigures(d1: D1Database, sinceMs: number, stepMs: number, now = Date.now()): Promise<DeliveryFigures> {
  const first = Math.floor(sinceMs / stepMs);
  const last = Math.floor(now / stepMs);
  const rows = await database(d1)
    .select({ b: sql<number>`cast(${deliveries.firedAt} / ${stepMs} as integer)`, triggerId: deliveries.triggerId, url: deliveries.url, status: deliveries.status, retried: sql<number>`sum(${deliveries.attempts} > 1)`, n: sql<number>`count(*)` })
    .from(deliveries)
    .where(and(gte(deliveries.updatedAt, first * stepMs), gte(deliveries.firedAt, first * stepMs)))
    .groupBy(sql`1`, deliveries.triggerId, deliveries.url, deliveries.status)
    .all();
  const n = last - first + 1;
  const f: DeliveryFigures = { times: Array.from({ length: n }, (_, i) => ((first + i) * stepMs) / 1000), fired: Array(n).fill(0), delivered: Array(n).fill(0), failed: Array(n).fill(0), retried: Array(n).fill(0), firedByTrigger: {}, firedByHost: {}, failedByHost: {}, byTrigger: [], byHost: [] };
  const triggers = new Map<string, DeliveryTotals>();
  const hosts = new Map<string, DeliveryTotals>();
  for (const r of rows) {
    const i = r.b - first;
    if (i < 0 || i >= n) continue;
    const failed = r.status === "rejected" || r.status === "dead";
    const pending = r.status === "queued" || r.status === "retrying";
    f.fired[i]! += r.n;
    const host = hostOf(r.url);
    for (const [series, key, count] of [[f.firedByTrigger, r.triggerId, r.n], [f.firedByHost, host, r.n], [f.failedByHost, host, failed ? r.n : 0]] as const) {
      series[key] ??= Array(n).fill(0);
      series[key]![i]! += count;
    }
    f.retried[i]! += r.retried;
    if (r.status === "delivered") f.delivered[i]! += r.n;
    if (failed) f.failed[i]! += r.n;
    for (const [map, key] of [[triggers, r.triggerId], [hosts, host]] as const) {
      const t = map.get(key) ?? empty();
      t.fired += r.n;
      t.retried += r.retried;
      if (r.status === "delivered") t.delivered += r.n;
      if (failed) t.failed += r.n;
      if (pending) t.pending += r.n;
      map.set(key, t);
    }
  }
  f.byTrigger = [...triggers].map(([triggerId, t]) => ({ triggerId, ...t })).sort((a, b) => b.fired - a.fired);
  f.byHost = [...hosts].map(([host, t]) => ({ host, ...t, failureRate: t.delivered + t.failed > 0 ? t.failed / (t.delivered + t.failed) : null })).sort((a, b) => b.fired - a.fired);
  return f;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
