/**
 * `/v1/experiments` (admin keys): experiments on content blocks, versioned like every definition
 * (If-Match), their results as they stand (always valid, however often they are read), and a ship
 * that serves one variant to everybody. Saving, shipping and deleting rewrite the block manifest,
 * which is how renders learn about experiments. docs/experiments.md.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { App } from "../api/app";
import type { AppEnv } from "../api/context";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { IdParam, route } from "../api/route";
import { publishManifest } from "../content/manifest";
import { getBlock } from "../content/store";
import { ApiError } from "../kernel/errors";
import { isoOrNull } from "../kernel/time";
import { ExperimentDefinition, ExperimentId } from "./definition";
import { evaluateExperiment } from "../maintenance/experiments";
import { affectsServing } from "./serving";
import { dryRun } from "./dry-run";
import { sampleProfiles } from "../profiles/sample";
import { shards } from "../db/shards";
import { readConfig } from "../model/config";
import { deleteExperiment, experimentVersion, getExperiment, listExperiments, listExperimentVersions, saveExperiment, type StoredExperiment } from "./store";
import { configureTally, tallyStub } from "./tally";

const TAG = "Experiments";
const view = (e: StoredExperiment) => ({ id: e.id, version: e.version, ...e.definition, createdAt: isoOrNull(e.createdAt), updatedAt: isoOrNull(e.updatedAt) });

/** Every block the experiment names exists, and no other experiment changes the same block's serving. */
async function check(c: Context<AppEnv>, id: string, d: ExperimentDefinition): Promise<void> {
  const named = [{ field: "block", block: d.block }, ...d.variants.flatMap((v, i) => (v.block ? [{ field: `variants[${i}].block`, block: v.block }] : []))];
  const missing = [];
  for (const n of named) if (!(await getBlock(c.env.DB, n.block))?.publishedVersion) missing.push({ field: n.field, message: `no published block ${n.block}` });
  if (missing.length > 0) throw new ApiError("validation_failed", "Invalid experiment", missing);
  if (!affectsServing(d)) return;
  const other = (await listExperiments(c.env.DB)).find((e) => e.id !== id && e.definition.block === d.block && affectsServing(e.definition));
  if (other) throw new ApiError("conflict", `Experiment ${other.id} already runs on block ${d.block}: stop it first (status "stopped")`);
}

async function requireExperiment(d1: D1Database, id: string): Promise<StoredExperiment> {
  const e = await getExperiment(d1, id);
  if (!e) throw new ApiError("not_found", `No experiment ${id}`);
  return e;
}

const DryRunQuery = z.object({ sample: z.coerce.number().int().min(1).max(10_000).default(1_000).describe("How many stored customers to sample (the first by id of every shard)") });

const ShipRequest = z.object({ variant: z.string().min(1).max(32).describe("The variant every customer gets from now on") });

export function registerExperimentRoutes(app: App): void {
  // Fixed paths under /v1/experiments/{id}/… are distinct from {id}: the order does not matter here.
  registerDefinitionRoutes(app, {
    path: "/v1/experiments",
    tag: TAG,
    noun: "Experiment",
    listKey: "experiments",
    id: ExperimentId,
    definition: ExperimentDefinition,
    view,
    summaries: {
      list: "Experiments on content blocks",
      put: 'Save an experiment (If-Match: "<version>"); served within about a minute (status "running" starts it)',
      get: "One experiment",
      delete: "Delete an experiment and its counts (its block serves itself again)",
    },
    putResponses: { 400: "A block it names is not published", 409: "Another experiment already runs on the block" },
    list: listExperiments,
    get: getExperiment,
    async save(c, id, definition, expectedVersion) {
      await check(c, id, definition);
      const { stored, created } = await saveExperiment(c.env.DB, id, definition, expectedVersion);
      await configureTally(c.env, id, stored.definition);
      await publishManifest(c.env);
      return { stored, created };
    },
    async delete(c, id) {
      if (!(await deleteExperiment(c.env.DB, id))) return false;
      await publishManifest(c.env);
      await tallyStub(c.env, id).clear();
      return true;
    },
    history: {
      versions: listExperimentVersions,
      rollbackSummary: "Save an old version again as the newest (its blocks must still be published)",
      async rollback(c, id, version) {
        const old = await experimentVersion(c.env.DB, id, version);
        if (!old) return null;
        await check(c, id, old);
        const { stored } = await saveExperiment(c.env.DB, id, old);
        await configureTally(c.env, id, stored.definition);
        await publishManifest(c.env);
        return c.json(view(stored), 200, { etag: `"${stored.version}"` });
      },
    },
  });

  route(
    app,
    {
      method: "get",
      path: "/v1/experiments/{id}/results",
      tag: TAG,
      scope: "admin",
      summary: "Results as they stand: per variant exposures, conversions, rates, revenue per exposed customer, the effect on the primary metric with its always-valid interval, guardrails; the sample-ratio check and the decision with its rule. Valid however often it is read.",
      params: IdParam,
      responses: { 200: "Results", 404: "No such experiment" },
    },
    async (c, { params: { id } }) => {
      const e = await requireExperiment(c.env.DB, id);
      const { results, action } = await evaluateExperiment(c.env, e);
      return c.json({ id: e.id, version: e.version, status: action?.definition.status ?? e.definition.status, winner: action?.definition.winner ?? e.definition.winner ?? null, ...results, ...(action ? { action: action.what } : {}) });
    },
  );

  route(
    app,
    {
      method: "get",
      path: "/v1/experiments/{id}/dry-run",
      tag: TAG,
      scope: "admin",
      summary: "The split the experiment would make over stored customers, as if it were running: per variant the customers and their share against the weights (χ² check), those outside it for consent, a few examples. Reads at most `sample` profiles.",
      params: IdParam,
      query: DryRunQuery,
      responses: { 200: "The split", 404: "No such experiment" },
    },
    async (c, { params: { id }, query }) => {
      const e = await requireExperiment(c.env.DB, id);
      const sampled = await sampleProfiles(shards(c.env), query.sample);
      const customers = sampled.map((p) => ({ id: p.id, preferences: p.consent?.categoryPreferences ?? null, exposed: p.experiments?.[id]?.variant }));
      return c.json({ id, version: e.version, ...dryRun({ id, version: e.version, definition: e.definition }, customers, readConfig(c.env).contentConsentCategories) });
    },
  );

  route(
    app,
    {
      method: "post",
      path: "/v1/experiments/{id}/ship",
      tag: TAG,
      scope: "admin",
      summary: "Serve one variant to every customer from now on (exposures stop counting; the results keep what was counted)",
      params: IdParam,
      body: ShipRequest,
      responses: { 200: "Shipped", 400: "No such variant", 404: "No such experiment" },
    },
    async (c, { params: { id }, body: { variant } }) => {
      const e = await requireExperiment(c.env.DB, id);
      if (!e.definition.variants.some((v) => v.key === variant)) throw new ApiError("validation_failed", "Invalid ship", [{ field: "variant", message: `not a variant of ${id}: ${e.definition.variants.map((v) => v.key).join(", ")}` }]);
      const { stored } = await saveExperiment(c.env.DB, id, { ...e.definition, winner: variant }, e.version);
      await configureTally(c.env, id, stored.definition);
      await publishManifest(c.env);
      return c.json(view(stored), 200, { etag: `"${stored.version}"` });
    },
  );
}
