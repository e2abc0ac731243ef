/**
 * Published models: every version in D1 (`models`), the current one of each in KV (`model:<name>`),
 * where the worker reads it. An isolate keeps what it read for a minute; a publish is applied at
 * once by the isolate that made it and within about a minute everywhere else.
 */
import { desc, eq, max } from "drizzle-orm";
import { database } from "../db/client";
import { models } from "../db/schema";
import { log } from "../kernel/log";
import type { Model, ModelUpload } from "./definition";
import { MODEL_NAMES, type ModelName } from "../model/scores";

const kvKey = (name: ModelName) => `model:${name}`;
const CACHE_MS = 60_000;
let cache: { at: number; models: Model[] } | null = null;

/** Forgets the isolate's copy (after a publish). */
export function forgetModels(): void {
  cache = null;
}

/** The current version of every published model. */
export async function currentModels(env: Env, now = Date.now()): Promise<Model[]> {
  if (cache && now - cache.at < CACHE_MS) return cache.models;
  const found = await Promise.all(MODEL_NAMES.map((name) => env.PROFILES.get<Model>(kvKey(name), { type: "json", cacheTtl: 60 })));
  const models = found.filter((m): m is Model => m !== null);
  cache = { at: now, models };
  return models;
}

export async function publishModel(env: Env, name: ModelName, upload: ModelUpload, now = Date.now()): Promise<Model> {
  const db = database(env.DB);
  const latest = await db.select({ v: max(models.version) }).from(models).where(eq(models.name, name)).get();
  const model: Model = { ...upload, name, version: (latest?.v ?? 0) + 1, publishedAt: new Date(now).toISOString() };
  // The version row's primary key refuses a concurrent publish of the same version.
  await db.insert(models).values({ name, version: model.version, model: JSON.stringify(model), createdAt: now });
  await env.PROFILES.put(kvKey(name), JSON.stringify(model));
  forgetModels();
  log("info", "models.published", { name, version: model.version, auc: upload.metrics.auc });
  return model;
}

export async function modelVersions(d1: D1Database, name: ModelName): Promise<Model[]> {
  const rows = await database(d1).select({ model: models.model }).from(models).where(eq(models.name, name)).orderBy(desc(models.version)).all();
  return rows.map((r) => JSON.parse(r.model) as Model);
}
