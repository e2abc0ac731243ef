/**
 * A profile's scores, as stored with it and shown in its document: each published model's score,
 * RFM quintiles, lifetime value and custom computed traits (how they are computed: models/scores.ts).
 */

export const MODEL_NAMES = ["purchase_30d", "churn_30d"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Model name → [score, model version]; RFM [recency, frequency, monetary]; lifetime value; when. */
export type Scores = {
  at: number;
  rfm?: [number, number, number];
  clv?: { historical: number; predicted: number; currency: string | null };
  /** Custom computed trait id → value (undefined ones, not derived yet, are left out). */
  custom?: Record<string, unknown>;
} & Partial<Record<ModelName, [number, number]>>;

/** As the profile document shows them. */
export function scoresView(s: Scores | null) {
  if (!s) return null;
  return {
    purchasePropensity: s.purchase_30d?.[0] ?? null,
    churnRisk: s.churn_30d?.[0] ?? null,
    models: Object.fromEntries(MODEL_NAMES.flatMap((name) => (s[name] ? [[name, s[name][1]]] : []))),
    rfm: s.rfm ? { recency: s.rfm[0], frequency: s.rfm[1], monetary: s.rfm[2], code: s.rfm.join("") } : null,
    historicalClv: s.clv?.historical ?? null,
    predictedClv: s.clv?.predicted ?? null,
    clvCurrency: s.clv?.currency ?? null,
    asOf: new Date(s.at).toISOString(),
  };
}
