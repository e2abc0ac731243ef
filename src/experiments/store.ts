/**
 * Experiment definitions in D1: the current version of each (`experiments`) and every saved
 * version (`experiment_versions`), like triggers. Saving over someone else's save is refused
 * (If-Match); a rollback saves an old version again as the newest. The edge reads experiments from
 * the block manifest, not from here.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { database } from "../db/client";
import { experiments, experimentVersions } from "../db/schema";
import { runBatch } from "../db/statements";
import { VersionMismatch } from "../db/versions";
import { ExperimentDefinition } from "./definition";

export interface StoredExperiment {
  id: string;
  version: number;
  definition: ExperimentDefinition;
  createdAt: number;
  updatedAt: number;
}

const parse = (json: string) => ExperimentDefinition.parse(JSON.parse(json));
const toStored = (r: typeof experiments.$inferSelect): StoredExperiment => ({ id: r.id, version: r.version, definition: parse(r.definition), createdAt: r.createdAt, updatedAt: r.updatedAt });

export async function getExperiment(d1: D1Database, id: string): Promise<StoredExperiment | null> {
  const row = await database(d1).select().from(experiments).where(and(eq(experiments.id, id), isNull(experiments.deletedAt))).get();
  return row ? toStored(row) : null;
}

export async function listExperiments(d1: D1Database): Promise<StoredExperiment[]> {
  return (await database(d1).select().from(experiments).where(isNull(experiments.deletedAt)).orderBy(experiments.id).all()).map(toStored);
}

/** Saves the next version (`expectedVersion`: refuse if someone saved meanwhile); the same definition again changes nothing. */
export async function saveExperiment(d1: D1Database, id: string, definition: ExperimentDefinition, expectedVersion?: number, now = Date.now()): Promise<{ stored: StoredExperiment; created: boolean; changed: boolean }> {
  const db = database(d1);
  const existing = await db.select().from(experiments).where(eq(experiments.id, id)).get();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const json = JSON.stringify(definition);
  const live = existing && existing.deletedAt === null ? existing : null;
  if (live && live.definition === json) return { stored: toStored(live), created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  // A deleted experiment saved again starts anew (its old versions stay in the history).
  const createdAt = live?.createdAt ?? now;
  // The version row's primary key makes two concurrent saves of the same version fail, not interleave.
  await runBatch(d1, [
    db.insert(experimentVersions).values({ experimentId: id, version, definition: json, createdAt: now }),
    db
      .insert(experiments)
      .values({ id, version, definition: json, createdAt, updatedAt: now, deletedAt: null })
      .onConflictDoUpdate({ target: experiments.id, set: { version, definition: json, createdAt, updatedAt: now, deletedAt: null } }),
  ]);
  return { stored: { id, version, definition, createdAt, updatedAt: now }, created: !live, changed: true };
}

export async function listExperimentVersions(d1: D1Database, id: string): Promise<{ version: number; definition: ExperimentDefinition; createdAt: number }[]> {
  const rows = await database(d1).select().from(experimentVersions).where(eq(experimentVersions.experimentId, id)).orderBy(desc(experimentVersions.version)).all();
  return rows.map((r) => ({ version: r.version, definition: parse(r.definition), createdAt: r.createdAt }));
}

/** The definition of an old version, or null. */
export async function experimentVersion(d1: D1Database, id: string, version: number): Promise<ExperimentDefinition | null> {
  const row = await database(d1)
    .select()
    .from(experimentVersions)
    .where(and(eq(experimentVersions.experimentId, id), eq(experimentVersions.version, version)))
    .get();
  return row ? parse(row.definition) : null;
}

export async function deleteExperiment(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const res = await database(d1)
    .update(experiments)
    .set({ deletedAt: now, updatedAt: now })
    .where(and(eq(experiments.id, id), isNull(experiments.deletedAt)))
    .run();
  return (res.meta.changes ?? 0) > 0;
}
