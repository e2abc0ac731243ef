/**
 * `/v1/admin/models` (admin keys): the predictive models. `npm run train` reads the training set
 * here and publishes what it trained; the current models, their versions and their score
 * distribution per day (drift) are read here. `/v1/admin/rfm`: the population's RFM quintile cuts.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { ModelNameSchema, ModelUpload } from "./definition";
import { drift } from "./scores";
import { currentModels, modelVersions, publishModel } from "./store";
import { trainingPage } from "./training-set";
import { currentRfmThresholds, refreshRfmThresholds } from "./rfm";

const TrainingQuery = z.object({
  cutoff: z.iso.datetime({ offset: true }),
  horizonDays: z.coerce.number().int().min(1).max(365).default(30),
  after: z.string().max(200).default(""),
  limit: z.coerce.number().int().min(1).max(1_000).default(200),
});
const DriftQuery = z.object({ days: z.coerce.number().int().min(1).max(365).default(30) });

const summary = (m: Awaited<ReturnType<typeof currentModels>>[number]) => ({ name: m.name, version: m.version, publishedAt: m.publishedAt, trainedAt: m.trainedAt, metrics: m.metrics, features: m.features });

const Name = z.object({ name: ModelNameSchema });
const TAG = "Predictions";

export function registerModelRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/admin/models", tag: TAG, scope: "admin", summary: "The current predictive models (purchase_30d, churn_30d) with their held-out metrics", responses: { 200: "Models" } }, async (c) =>
    c.json({ models: (await currentModels(c.env)).map(summary) }),
  );

  route(app, { method: "get", path: "/v1/admin/rfm", tag: TAG, scope: "admin", summary: "The population's RFM quintile cuts", responses: { 200: "Thresholds" } }, async (c) => c.json({ thresholds: await currentRfmThresholds(c.env) }));

  // The daily cron recomputes them; this is for after an import, or to look at them now.
  route(app, { method: "post", path: "/v1/admin/rfm/refresh", tag: TAG, scope: "admin", summary: "Recompute the RFM cuts now (the daily cron does)", responses: { 200: "Thresholds" } }, async (c) =>
    c.json({ thresholds: await refreshRfmThresholds(c.env) }),
  );

  route(
    app,
    { method: "get", path: "/v1/admin/models/training-set", tag: TAG, scope: "admin", summary: "A page of the time-split training set: features as of the cutoff, labels from the horizon after", query: TrainingQuery, responses: { 200: "Rows and next", 400: "The horizon has not passed" } },
    async (c, { query: q }) => {
      const cutoff = Date.parse(q.cutoff);
      if (cutoff + q.horizonDays * 86_400_000 > Date.now()) throw new ApiError("validation_failed", "The horizon after the cutoff has not passed yet", [{ field: "cutoff", message: `must be at least ${q.horizonDays} days ago` }]);
      return c.json(await trainingPage(c.env, cutoff, q.horizonDays, q.after, q.limit));
    },
  );

  route(
    app,
    { method: "put", path: "/v1/admin/models/{name}", tag: TAG, scope: "admin", summary: "Publish a trained model (npm run train does): a new version, applied to every profile write", params: Name, body: ModelUpload, responses: { 201: "Published", 400: "Not the worker's features, or invalid coefficients" } },
    async (c, { params: { name }, body: upload }) => c.json(summary(await publishModel(c.env, name, upload)), 201),
  );

  route(app, { method: "get", path: "/v1/admin/models/{name}/versions", tag: TAG, scope: "admin", summary: "Every published version of a model", params: Name, responses: { 200: "Versions" } }, async (c, { params: { name } }) =>
    c.json({ name, versions: (await modelVersions(c.env.DB, name)).map(summary) }),
  );

  route(app, { method: "get", path: "/v1/admin/models/{name}/drift", tag: TAG, scope: "admin", summary: "Score distribution per day and model version: ten buckets, mean, count", params: Name, query: DriftQuery, responses: { 200: "Drift" } }, async (c, { params: { name }, query: { days } }) =>
    c.json({ name, buckets: "ten buckets of 0.1, from [0, 0.1) to [0.9, 1]", days: await drift(c.env.DB, name, days) }),
  );
}
