/**
 * Reads the engagement reports' daily rows (db/schema.ts `engagement_daily`) from every database
 * (each shard holds what its customers' commits added) and adds them up: per key over a period,
 * or per day for one key. A read is one indexed range per database, whatever the traffic was.
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import type { ShardMap } from "../db/shards";
import { METRICS, type Dimension, type Metric } from "../profiles/engagement";
import { METRIC_COLUMNS } from "../profiles/engagement-store";

export type MetricSums = Record<Metric, number>;
export const noSums = (): MetricSums => Object.fromEntries(METRICS.map((m) => [m, 0])) as MetricSums;

const sums = sql.raw(METRICS.map((m) => `sum(${METRIC_COLUMNS[m]}) AS ${m}`).join(", "));

function add(into: MetricSums, row: Record<string, unknown>): void {
  for (const m of METRICS) into[m] += Number(row[m] ?? 0);
}

/** Adds rows up by the value `by` gives each (a key, a day). */
function sumBy<K>(rows: readonly Record<string, unknown>[], by: (r: Record<string, unknown>) => K): Map<K, MetricSums> {
  const out = new Map<K, MetricSums>();
  for (const r of rows) {
    const k = by(r);
    const held = out.get(k) ?? noSums();
    add(held, r);
    out.set(k, held);
  }
  return out;
}

/** Per key of the dimension: the sums over days `from`–`to` (inclusive, days since 1970-01-01 UTC). */
export async function sumsByKey(map: ShardMap, dimension: Dimension, from: number, to: number): Promise<Map<string, MetricSums>> {
  const rows = await map.everywhere((d1) =>
    database(d1).all<Record<string, unknown>>(sql`SELECT key, ${sums} FROM engagement_daily WHERE dimension = ${dimension} AND day BETWEEN ${from} AND ${to} GROUP BY key`),
  );
  return sumBy(rows, (r) => String(r.key));
}

/** Per day of one key: the sums (days without a row are left out), in order. */
export async function sumsByDay(map: ShardMap, dimension: Dimension, key: string, from: number, to: number): Promise<Map<number, MetricSums>> {
  const rows = await map.everywhere((d1) =>
    database(d1).all<Record<string, unknown>>(sql`SELECT day, ${sums} FROM engagement_daily WHERE dimension = ${dimension} AND key = ${key} AND day BETWEEN ${from} AND ${to} GROUP BY day`),
  );
  return new Map([...sumBy(rows, (r) => Number(r.day))].sort(([a], [b]) => a - b));
}
