/**
 * The scores of a profile at an instant: each current model applied to its features, its RFM
 * quintiles against the population, and its lifetime value (segments/rfm.ts). The pipeline stores
 * them with every profile it writes (and counts the models' distribution per day, for drift);
 * segment rules compare them as computed fields.
 */
import { and, eq, gte, sql } from "drizzle-orm";
import { scoreStats } from "../db/schema";
import { database } from "../db/client";
import type { Statement } from "../db/statements";
import type { ProfileState } from "../profiles/apply";
import { clvOf, rfmOf, type RfmThresholds } from "./rfm";
import { aggregateValue, type AggregateSpec } from "../profiles/aggregates";
import type { Model } from "./definition";
import { MODEL_NAMES, type ModelName } from "../model/scores";
import { featuresOf } from "./features";
import { predict } from "./logistic";
import type { Scores } from "../model/scores";

export interface ScoringContext {
  models: readonly Model[];
  rfm: RfmThresholds | null;
  traits?: readonly { trait: { id: string }; spec: AggregateSpec }[];
}

export function scoresOf(context: ScoringContext, state: ProfileState, now: number): Scores | null {
  const traits = context.traits ?? [];
  if (context.models.length === 0 && !state.computed && traits.length === 0) return null;
  const scores: Scores = { at: now };
  if (traits.length > 0) {
    const custom: Record<string, unknown> = {};
    for (const { trait, spec } of traits) {
      const value = aggregateValue(state.aggregates, spec, now);
      if (value !== undefined) custom[trait.id] = value;
    }
    scores.custom = custom;
  }
  if (context.models.length > 0) {
    const x = featuresOf(state, now);
    for (const m of context.models) scores[m.name] = [Math.round(predict(m, x) * 10_000) / 10_000, m.version];
  }
  const rfm = rfmOf(context.rfm, state.computed, now);
  if (rfm) scores.rfm = rfm;
  const clv = clvOf(state.computed, now, scores.churn_30d?.[0]);
  if (clv) scores.clv = clv;
  return scores;
}

const DAY_MS = 86_400_000;
const BUCKETS = 10;

/** One upsert of the day's score distribution per model version, for the profiles a batch wrote. */
export function scoreStatsStatement(d1: D1Database, written: readonly Scores[]): Statement | null {
  const rows = new Map<string, { name: string; version: number; day: number; n: number; sum: number; buckets: number[] }>();
  for (const s of written) {
    const day = Math.floor(s.at / DAY_MS);
    for (const name of MODEL_NAMES) {
      if (!s[name]) continue;
      const [score, version] = s[name];
      const key = `${name}:${version}:${day}`;
      const row = rows.get(key) ?? { name, version, day, n: 0, sum: 0, buckets: new Array<number>(BUCKETS).fill(0) };
      row.n++;
      row.sum += score;
      row.buckets[Math.min(BUCKETS - 1, Math.floor(score * BUCKETS))]!++;
      rows.set(key, row);
    }
  }
  if (rows.size === 0) return null;
  const merged = sql.raw(Array.from({ length: BUCKETS }, (_, i) => `json_extract(buckets, '$[${i}]') + json_extract(excluded.buckets, '$[${i}]')`).join(", "));
  const json = JSON.stringify([...rows.values()].map((r) => ({ ...r, buckets: JSON.stringify(r.buckets) })));
  return database(d1).run(sql`INSERT INTO score_stats (name, version, day, n, sum, buckets)
    SELECT json_extract(value, '$.name'), json_extract(value, '$.version'), json_extract(value, '$.day'), json_extract(value, '$.n'), json_extract(value, '$.sum'), json_extract(value, '$.buckets')
    FROM json_each(${json}) WHERE true
    ON CONFLICT (name, version, day) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum, buckets = json_array(${merged})`);
}

/** The last `days` days of a model's score distribution, per version. */
export async function drift(d1: D1Database, name: ModelName, days: number, now = Date.now()) {
  const from = Math.floor(now / DAY_MS) - days + 1;
  const s = scoreStats;
  const results = await database(d1).select({ version: s.version, day: s.day, n: s.n, sum: s.sum, buckets: s.buckets }).from(s).where(and(eq(s.name, name), gte(s.day, from))).orderBy(s.day, s.version).all();
  return results.map((r) => ({ date: new Date(r.day * DAY_MS).toISOString().slice(0, 10), version: r.version, n: r.n, mean: r.n > 0 ? Math.round((r.sum / r.n) * 10_000) / 10_000 : null, histogram: JSON.parse(r.buckets) as number[] }));
}
