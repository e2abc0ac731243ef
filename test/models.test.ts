import { describe, expect, it } from "vitest";
import { processEvents } from "../src/pipeline/process";
import { forgetModels } from "../src/models/store";
import { syntheticHistory } from "../src/models/synthetic";
import { collectRows, trainModel } from "../src/models/training";
import type { TrainingRow } from "../src/models/training-set";
import { admin, env, profileWhen, uid } from "./helpers";
import { DAY, identifyAt, membersOf, saveSegmentAndWait, trackAt } from "./segment-helpers";
import { customerIdOf } from "./segment-helpers";

async function trainingSet(cutoff: number): Promise<TrainingRow[]> {
  return collectRows(async (after) => (await (await admin(`/v1/admin/models/training-set?cutoff=${new Date(cutoff).toISOString()}&horizonDays=30&limit=300&after=${encodeURIComponent(after)}`)).json()) as { rows: TrainingRow[]; next: string | null });
}

describe("predictive scores", () => {
  it("learn a planted signal from the stored history (holdout AUC ≥ 0.80 for both), publish, score every profile update, and report drift", async () => {
    const now = Date.now();
    const prefix = uid("sim");
    const history = syntheticHistory({ customers: 400, seed: 7, days: 150, now, prefix });
    for (let i = 0; i < history.length; i += 1_000) await processEvents(env, history.slice(i, i + 1_000));
    const cutoffs = { train: now - 60 * DAY, holdout: now - 30 * DAY };
    const [trainRows, holdoutRows] = await Promise.all([trainingSet(cutoffs.train), trainingSet(cutoffs.holdout)]);
    expect(trainRows.length).toBeGreaterThan(200);
    const purchase = trainModel("purchase_30d", trainRows, holdoutRows, cutoffs);
    const churn = trainModel("churn_30d", trainRows, holdoutRows, cutoffs);
    expect(purchase.upload.metrics.auc).toBeGreaterThanOrEqual(0.8);
    expect(churn.upload.metrics.auc).toBeGreaterThanOrEqual(0.8);
    // Calibrated enough to read as a chance: the mean score is near the observed rate.
    const rate = (c: typeof purchase.calibration) => c.reduce((s, b) => s + b.observed * b.n, 0) / c.reduce((s, b) => s + b.n, 0);
    const mean = (c: typeof purchase.calibration) => c.reduce((s, b) => s + b.predicted * b.n, 0) / c.reduce((s, b) => s + b.n, 0);
    expect(Math.abs(mean(purchase.calibration) - rate(purchase.calibration))).toBeLessThan(0.1);

    for (const t of [purchase, churn]) {
      const res = await admin(`/v1/admin/models/${t.name}`, { method: "PUT", body: JSON.stringify(t.upload) });
      expect(res.status).toBe(201);
    }
    forgetModels();
    const listed = (await (await admin("/v1/admin/models")).json()) as { models: { name: string; version: number; metrics: { auc: number } }[] };
    expect(listed.models.map((m) => m.name).sort()).toEqual(["churn_30d", "purchase_30d"]);

    // An active shopper and one long gone, scored as their profiles change.
    const [active, gone] = [uid("active"), uid("gone")];
    const recent = Array.from({ length: 12 }, (_, i) => trackAt(active, "Product Viewed", { product_id: `p${i}` }, now - i * DAY));
    await processEvents(env, [identifyAt(active, { cohort: prefix }, now - 100 * DAY), ...recent, trackAt(active, "Order Completed", { revenue: 40 }, now - 2 * DAY)]);
    await processEvents(env, [identifyAt(gone, { cohort: prefix }, now - 140 * DAY), trackAt(gone, "Product Viewed", { product_id: "p1" }, now - 130 * DAY)]);
    const activeProfile = await profileWhen(active, (p) => p.scores !== null);
    const goneProfile = await profileWhen(gone, (p) => p.scores !== null);
    expect(activeProfile.scores.models).toEqual({ purchase_30d: 1, churn_30d: 1 });
    expect(activeProfile.scores.purchasePropensity).toBeGreaterThan(goneProfile.scores.purchasePropensity);
    expect(goneProfile.scores.churnRisk).toBeGreaterThan(activeProfile.scores.churnRisk);

    // Segments can use them.
    const seg = uid("likely-buyers");
    await saveSegmentAndWait(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: prefix }, { computed: "purchasePropensity", op: "gte", value: (activeProfile.scores.purchasePropensity + goneProfile.scores.purchasePropensity) / 2 }] } });
    expect(await membersOf(seg)).toEqual([await customerIdOf(active)]);

    const drift = (await (await admin("/v1/admin/models/purchase_30d/drift?days=2")).json()) as { days: { version: number; n: number; histogram: number[]; mean: number }[] };
    const today = drift.days.find((d) => d.version === 1)!;
    expect(today.n).toBeGreaterThanOrEqual(2);
    expect(today.histogram.reduce((s, n) => s + n, 0)).toBe(today.n);
  });

  it("refuse a model that does not read the worker's features", async () => {
    const res = await admin("/v1/admin/models/purchase_30d", { method: "PUT", body: JSON.stringify({ features: ["age"], means: [0], stds: [1], weights: [1], bias: 0, metrics: { auc: 0.9, trainRows: 1, holdoutRows: 1, positiveRate: 0.5 }, trainedAt: new Date().toISOString(), trainCutoff: new Date().toISOString(), holdoutCutoff: new Date().toISOString() }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain("features");
  });

  it("refuse a training set whose horizon has not passed", async () => {
    const res = await admin(`/v1/admin/models/training-set?cutoff=${new Date(Date.now() - 5 * DAY).toISOString()}&horizonDays=30`);
    expect(res.status).toBe(400);
  });
});
