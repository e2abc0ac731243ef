/**
 * The engagement reports' daily rows, and the shop's engagement by hour (the population curve), (db/schema.ts `engagement_daily`): what a commit's email
 * events add, upserted in the customers' shard in the same transaction as their profiles (so a
 * retried batch, which finds the watermark moved, never adds twice).
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import type { Statement } from "../db/statements";
import { METRICS, type EngagementCount, type Metric } from "./engagement";

/** The SQL column of each metric. */
export const METRIC_COLUMNS: Record<Metric, string> = Object.fromEntries(METRICS.map((m) => [m, m.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)])) as Record<Metric, string>;

/** Adds each count to its day's row (one statement for the lot). */
export function engagementCountStatements(d1: D1Database, counts: readonly EngagementCount[]): Statement[] {
  if (counts.length === 0) return [];
  const rows = new Map<string, EngagementCount>();
  for (const c of counts) {
    const id = `${c.dimension}\u0000${c.key}\u0000${c.day}`;
    const row = rows.get(id) ?? { ...c, metrics: {} };
    for (const [m, n] of Object.entries(c.metrics) as [Metric, number][]) row.metrics[m] = (row.metrics[m] ?? 0) + n;
    rows.set(id, row);
  }
  const json = JSON.stringify([...rows.values()].map((r) => ({ d: r.dimension, k: r.key, day: r.day, ...r.metrics })));
  const columns = METRICS.map((m) => METRIC_COLUMNS[m]);
  const values = METRICS.map((m) => `coalesce(json_extract(value, '$.${m}'), 0)`);
  const updates = columns.map((c) => `${c} = ${c} + excluded.${c}`);
  // Column names come from METRICS (a constant), never from input.
  return [
    database(d1).run(sql`INSERT INTO engagement_daily (dimension, key, day, ${sql.raw(columns.join(", "))})
      SELECT json_extract(value, '$.d'), json_extract(value, '$.k'), json_extract(value, '$.day'), ${sql.raw(values.join(", "))} FROM json_each(${json}) WHERE true
      ON CONFLICT (dimension, key, day) DO UPDATE SET ${sql.raw(updates.join(", "))}`),
  ];
}

/** Adds the commit's engagement by local hour to the shard's totals (the population curve's source). */
export function sendTimeHourStatements(d1: D1Database, deltas: readonly (readonly number[])[]): Statement[] {
  if (deltas.length === 0) return [];
  const sum = new Array<number>(24).fill(0);
  for (const d of deltas) for (let h = 0; h < 24; h++) sum[h]! += d[h] ?? 0;
  const rows = JSON.stringify(sum.map((w, hour) => ({ hour, w })).filter((r) => r.w !== 0));
  if (rows === "[]") return [];
  return [
    database(d1).run(sql`INSERT INTO send_time_hours (hour, weight) SELECT json_extract(value, '$.hour'), json_extract(value, '$.w') FROM json_each(${rows}) WHERE true
      ON CONFLICT (hour) DO UPDATE SET weight = weight + excluded.weight`),
  ];
}

/** Moves customers between the answers of surveys (profiles/survey-answers.ts answerDeltas), in the customers' shard. */
export function surveyAnswerStatements(d1: D1Database, deltas: readonly { survey: string; answer: string; d: number }[]): Statement[] {
  if (deltas.length === 0) return [];
  return [
    database(d1).run(sql`INSERT INTO survey_answers (survey_id, answer, customers) SELECT json_extract(value, '$.survey'), json_extract(value, '$.answer'), json_extract(value, '$.d') FROM json_each(${JSON.stringify(deltas)}) WHERE true
      ON CONFLICT (survey_id, answer) DO UPDATE SET customers = customers + excluded.customers`),
  ];
}
