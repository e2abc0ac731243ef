/**
 * Predictive scores of a profile: each current model applied to the profile's features at an
 * instant. The pipeline stores them with every profile it writes (and counts their distribution
 * per day, for drift); segment rules compare them as computed fields.
 */
import type { ProfileState } from "../profiles/apply";
import type { Model, ModelName } from "./definition";
import { featuresOf } from "./features";
import { predict } from "./logistic";

/** Model name → [score, model version], and when they were computed. */
export type Scores = { at: number } & Partial<Record<ModelName, [number, number]>>;

export function scoresOf(models: readonly Model[], state: ProfileState, now: number): Scores | null {
  if (models.length === 0) return null;
  const x = featuresOf(state, now);
  const scores: Scores = { at: now };
  for (const m of models) scores[m.name] = [Math.round(predict(m, x) * 10_000) / 10_000, m.version];
  return scores;
}

/** As the profile document shows them. */
export function scoresView(s: Scores | null) {
  if (!s) return null;
  return {
    purchasePropensity: s.purchase_30d?.[0] ?? null,
    churnRisk: s.churn_30d?.[0] ?? null,
    models: Object.fromEntries(Object.entries(s).filter(([k]) => k !== "at").map(([k, v]) => [k, (v as [number, number])[1]])),
    asOf: new Date(s.at).toISOString(),
  };
}

const DAY_MS = 86_400_000;
const BUCKETS = 10;

/** One upsert of the day's score distribution per model version, for the profiles a batch wrote. */
export function scoreStatsStatement(d1: D1Database, written: readonly Scores[]): D1PreparedStatement | null {
  const rows = new Map<string, { name: string; version: number; day: number; n: number; sum: number; buckets: number[] }>();
  for (const s of written) {
    const day = Math.floor(s.at / DAY_MS);
    for (const [name, value] of Object.entries(s)) {
      if (name === "at") continue;
      const [score, version] = value as [number, number];
      const key = `${name}:${version}:${day}`;
      const row = rows.get(key) ?? { name, version, day, n: 0, sum: 0, buckets: new Array<number>(BUCKETS).fill(0) };
      row.n++;
      row.sum += score;
      row.buckets[Math.min(BUCKETS - 1, Math.floor(score * BUCKETS))]!++;
      rows.set(key, row);
    }
  }
  if (rows.size === 0) return null;
  const merged = Array.from({ length: BUCKETS }, (_, i) => `json_extract(buckets, '$[${i}]') + json_extract(excluded.buckets, '$[${i}]')`).join(", ");
  return d1
    .prepare(
      `INSERT INTO score_stats (name, version, day, n, sum, buckets)
       SELECT json_extract(value, '$.name'), json_extract(value, '$.version'), json_extract(value, '$.day'), json_extract(value, '$.n'), json_extract(value, '$.sum'), json_extract(value, '$.buckets')
       FROM json_each(?1) WHERE true
       ON CONFLICT (name, version, day) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum, buckets = json_array(${merged})`,
    )
    .bind(JSON.stringify([...rows.values()].map((r) => ({ ...r, buckets: JSON.stringify(r.buckets) }))));
}

/** The last `days` days of a model's score distribution, per version. */
export async function drift(d1: D1Database, name: ModelName, days: number, now = Date.now()) {
  const from = Math.floor(now / DAY_MS) - days + 1;
  const { results } = await d1
    .prepare(`SELECT version, day, n, sum, buckets FROM score_stats WHERE name = ?1 AND day >= ?2 ORDER BY day, version`)
    .bind(name, from)
    .all<{ version: number; day: number; n: number; sum: number; buckets: string }>();
  return results.map((r) => ({ date: new Date(r.day * DAY_MS).toISOString().slice(0, 10), version: r.version, n: r.n, mean: r.n > 0 ? Math.round((r.sum / r.n) * 10_000) / 10_000 : null, histogram: JSON.parse(r.buckets) as number[] }));
}
