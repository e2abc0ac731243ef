/**
 * Training both models from two time-split training sets (models/training-set.ts): learn on the
 * earlier cutoff, measure on the later one. Pure, so `npm run train` (Node) and the tests
 * (workerd) run the same code.
 */
import type { ModelUpload } from "./definition";
import type { ModelName } from "../model/scores";
// With their extensions: Node runs this file as it is (npm run train), and resolves no other way.
import { FEATURES } from "./features.ts";
import { auc, calibration, predict, train } from "./logistic.ts";
import type { TrainingRow } from "./training-set";

export interface Trained {
  name: ModelName;
  upload: ModelUpload;
  calibration: ReturnType<typeof calibration>;
}

/** Reads every page of a training set. */
export async function collectRows(page: (after: string) => Promise<{ rows: TrainingRow[]; next: string | null }>): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for (let after: string | null = ""; after !== null; ) {
    const res: { rows: TrainingRow[]; next: string | null } = await page(after);
    rows.push(...res.rows);
    after = res.next;
  }
  return rows;
}

const TARGETS: Record<ModelName, { label: (r: TrainingRow) => number; eligible: (r: TrainingRow) => boolean }> = {
  purchase_30d: { label: (r) => r.purchased, eligible: () => true },
  churn_30d: { label: (r) => r.churned, eligible: (r) => r.churnEligible },
};

export function trainModel(name: ModelName, trainRows: readonly TrainingRow[], holdoutRows: readonly TrainingRow[], cutoffs: { train: number; holdout: number }, now = Date.now()): Trained {
  const { label, eligible } = TARGETS[name];
  const learn = trainRows.filter(eligible);
  const test = holdoutRows.filter(eligible);
  if (learn.length < 20 || test.length < 20) throw new Error(`${name}: too little history to train (${learn.length} training rows, ${test.length} held-out rows; at least 20 each)`);
  const ys = learn.map(label);
  const model = train(learn.map((r) => r.features), ys);
  const scores = test.map((r) => predict(model, r.features));
  const labels = test.map(label);
  const measured = auc(scores, labels);
  if (!Number.isFinite(measured)) throw new Error(`${name}: the held-out period has only one outcome; nothing to measure`);
  return {
    name,
    calibration: calibration(scores, labels),
    upload: {
      features: [...FEATURES],
      ...model,
      metrics: { auc: Math.round(measured * 10_000) / 10_000, trainRows: learn.length, holdoutRows: test.length, positiveRate: Math.round((ys.reduce((s, y) => s + y, 0) / ys.length) * 10_000) / 10_000 },
      trainedAt: new Date(now).toISOString(),
      trainCutoff: new Date(cutoffs.train).toISOString(),
      holdoutCutoff: new Date(cutoffs.holdout).toISOString(),
    },
  };
}
