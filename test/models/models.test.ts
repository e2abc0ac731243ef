import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { auc, predict } from "../../src/models/logistic";
import { forgetModels } from "../../src/models/store";
import { collectRows, trainModel } from "../../src/models/training";
import { trainingPage, type TrainingRow } from "../../src/models/training-set";
import { simulate, type SimulatedShopper } from "../../tools/sim/simulate";
import { admin, env, profileWhen, uid } from "../helpers";
import { customerOf, ingested, processAll } from "../sim-helpers";
import { DAY, identifyAt, membersOf, saveSegmentAndWait, trackAt } from "../segment-helpers";
import { customerIdOf } from "../segment-helpers";

async function trainingSet(cutoff: number): Promise<TrainingRow[]> {
  return collectRows(async (after) => (await (await admin(`/v1/admin/models/training-set?cutoff=${new Date(cutoff).toISOString()}&horizonDays=30&limit=300&after=${encodeURIComponent(after)}`)).json()) as { rows: TrainingRow[]; next: string | null });
}

/** AUC of the models' scores at `now` against the simulator's hidden future (churn: among those active in the 90 days before). */
async function truthAuc(shoppers: readonly SimulatedShopper[], now: number, purchase: Parameters<typeof predict>[0], churn: Parameters<typeof predict>[0]) {
  const rows = new Map((await collectRows((after) => trainingPage(env, now, 30, after, 500))).map((r) => [r.customerId, r]));
  const p = { scores: [] as number[], labels: [] as number[] };
  const c = { scores: [] as number[], labels: [] as number[] };
  for (const s of shoppers) {
    const row = rows.get((await customerOf(s.truth.userId ? { userId: s.truth.userId } : { anonymousId: s.truth.anonymousId }))!)!;
    p.scores.push(predict(purchase, row.features));
    p.labels.push(s.truth.willPurchase30d ? 1 : 0);
    if (Date.parse(s.truth.lastSeen) <= now - 90 * DAY) continue;
    c.scores.push(predict(churn, row.features));
    c.labels.push(s.truth.churned ? 1 : 0);
  }
  return { purchase: auc(p.scores, p.labels), churn: auc(c.scores, c.labels) };
}

describe("predictive scores", () => {
  it("learn from a simulated shop's stored history (holdout AUC ≥ 0.80 for both, and on its hidden future), publish, score every profile update, and report drift", { timeout: 120_000 }, async () => {
    const now = Date.now();
    // A fixed prefix and anchor: the same shop, and so the same measures, in every run.
    const prefix = "models-sim";
    const simNow = Date.UTC(2026, 9, 1);
    const shoppers = [...simulate({ customers: 1500, days: 150, seed: 7, now: simNow, prefix })];
    const { events, refused } = await ingested(shoppers);
    expect(refused).toEqual([]);
    await processAll(events);
    const cutoffs = { train: simNow - 60 * DAY, holdout: simNow - 30 * DAY };
    const [trainRows, holdoutRows] = await Promise.all([trainingSet(cutoffs.train), trainingSet(cutoffs.holdout)]);
    expect(trainRows.length).toBeGreaterThan(500);
    const purchase = trainModel("purchase_30d", trainRows, holdoutRows, cutoffs);
    const churn = trainModel("churn_30d", trainRows, holdoutRows, cutoffs);
    expect(purchase.upload.metrics.auc).toBeGreaterThanOrEqual(0.8);
    expect(churn.upload.metrics.auc).toBeGreaterThanOrEqual(0.8);
    // The simulator's ground truth: the 30 days after its `now`, never ingested. Scored on the
    // profiles as they stand at `now`, the models rank who orders and who is gone.
    const truth = await truthAuc(shoppers, simNow, purchase.upload, churn.upload);
    expect(truth.purchase).toBeGreaterThanOrEqual(0.8);
    expect(truth.churn).toBeGreaterThanOrEqual(0.8);
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
