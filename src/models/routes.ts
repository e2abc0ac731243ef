/**
 * `/v1/admin/models` (admin keys): the predictive models. `npm run train` reads the training set
 * here and publishes what it trained; the current models, their versions and their score
 * distribution per day (drift) are read here. `/v1/admin/rfm`: the population's RFM quintile cuts.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { ApiError } from "../kernel/errors";
import { jsonBody, parseInput } from "../api/validation";
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

export function registerModelRoutes(app: App): void {
  app.get("/v1/admin/models", async (c) => c.json({ models: (await currentModels(c.env)).map(summary) }));

  app.get("/v1/admin/rfm", async (c) => c.json({ thresholds: await currentRfmThresholds(c.env) }));

  // The daily cron recomputes them; this is for after an import, or to look at them now.
  app.post("/v1/admin/rfm/refresh", async (c) => c.json({ thresholds: await refreshRfmThresholds(c.env) }));

  app.get("/v1/admin/models/training-set", async (c) => {
    const q = parseInput(TrainingQuery, c.req.query(), "query");
    const cutoff = Date.parse(q.cutoff);
    if (cutoff + q.horizonDays * 86_400_000 > Date.now()) throw new ApiError("validation_failed", "The horizon after the cutoff has not passed yet", [{ field: "cutoff", message: `must be at least ${q.horizonDays} days ago` }]);
    return c.json(await trainingPage(c.env, cutoff, q.horizonDays, q.after, q.limit));
  });

  app.put("/v1/admin/models/:name", async (c) => {
    const name = parseInput(ModelNameSchema, c.req.param("name"), "model name");
    const upload = parseInput(ModelUpload, await jsonBody(c), "model");
    return c.json(summary(await publishModel(c.env, name, upload)), 201);
  });

  app.get("/v1/admin/models/:name/versions", async (c) => {
    const name = parseInput(ModelNameSchema, c.req.param("name"), "model name");
    return c.json({ name, versions: (await modelVersions(c.env.DB, name)).map(summary) });
  });

  app.get("/v1/admin/models/:name/drift", async (c) => {
    const name = parseInput(ModelNameSchema, c.req.param("name"), "model name");
    const { days } = parseInput(DriftQuery, c.req.query(), "query");
    return c.json({ name, buckets: "ten buckets of 0.1, from [0, 0.1) to [0.9, 1]", days: await drift(c.env.DB, name, days) });
  });
}
