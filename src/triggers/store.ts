/**
 * Trigger definitions in D1. Saving writes a new version (the old ones stay in
 * `trigger_versions`); the pipeline reads the enabled ones once per consumer batch, and a
 * Durable Object reads the current version of one trigger when a timer comes due.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { database } from "../db/client";
import { VersionMismatch } from "../db/versions";
import { triggers, triggerVersions } from "../db/schema";
import { runBatch } from "../db/statements";
import { TriggerDefinition, type Trigger } from "./definition";

export interface StoredTrigger extends Trigger {
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

const toTrigger = (row: typeof triggers.$inferSelect): StoredTrigger => ({
  id: row.id,
  version: row.version,
  definition: TriggerDefinition.parse(JSON.parse(row.definition)),
  enabled: row.enabled,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  deletedAt: row.deletedAt,
});

/**
 * Saves a new version of a trigger. With `expectedVersion`, refuses (VersionMismatch) when
 * someone else saved in between. Saving the same definition again creates no version.
 */
export async function saveTrigger(d1: D1Database, id: string, definition: TriggerDefinition, expectedVersion?: number, now = Date.now()): Promise<{ trigger: StoredTrigger; created: boolean; changed: boolean }> {
  const db = database(d1);
  const existing = await db.select().from(triggers).where(eq(triggers.id, id)).get();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const json = JSON.stringify(definition);
  if (existing && !existing.deletedAt && existing.definition === json) return { trigger: toTrigger(existing), created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  const row = { id, version, definition: json, enabled: definition.enabled, createdAt: existing?.createdAt ?? now, updatedAt: now, deletedAt: null };
  // The version row's primary key makes two concurrent saves of the same version fail, not interleave.
  await runBatch(d1, [
    db.insert(triggerVersions).values({ triggerId: id, version, definition: json, createdAt: now }),
    db.insert(triggers).values(row).onConflictDoUpdate({ target: triggers.id, set: { version, definition: json, enabled: definition.enabled, updatedAt: now, deletedAt: null } }),
  ]);
  return { trigger: toTrigger(row), created: !existing, changed: true };
}

export async function getTrigger(d1: D1Database, id: string): Promise<StoredTrigger | null> {
  const db = database(d1);
  const row = await db.select().from(triggers).where(eq(triggers.id, id)).get();
  return row ? toTrigger(row) : null;
}

export async function listTriggers(d1: D1Database): Promise<StoredTrigger[]> {
  const db = database(d1);
  return (await db.select().from(triggers).where(isNull(triggers.deletedAt)).orderBy(triggers.id).all()).map(toTrigger);
}

/** The triggers that create and cancel timers: enabled, not deleted. */
export async function activeTriggers(d1: D1Database): Promise<Trigger[]> {
  const db = database(d1);
  const rows = await db.select().from(triggers).where(and(eq(triggers.enabled, true), isNull(triggers.deletedAt))).all();
  return rows.map(toTrigger).map(({ id, version, definition }) => ({ id, version, definition }));
}

export async function listTriggerVersions(d1: D1Database, id: string) {
  const db = database(d1);
  const rows = await db.select().from(triggerVersions).where(eq(triggerVersions.triggerId, id)).orderBy(desc(triggerVersions.version)).all();
  return rows.map((r) => ({ version: r.version, definition: TriggerDefinition.parse(JSON.parse(r.definition)), createdAt: r.createdAt }));
}

/** Rollback: saves an old version's definition as the newest version. */
export async function rollbackTrigger(d1: D1Database, id: string, toVersion: number, now = Date.now()) {
  const db = database(d1);
  const old = await db.select().from(triggerVersions).where(and(eq(triggerVersions.triggerId, id), eq(triggerVersions.version, toVersion))).get();
  if (!old) return null;
  return saveTrigger(d1, id, TriggerDefinition.parse(JSON.parse(old.definition)), undefined, now);
}

export async function deleteTrigger(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const db = database(d1);
  const res = await db.update(triggers).set({ deletedAt: now, enabled: false, updatedAt: now }).where(and(eq(triggers.id, id), isNull(triggers.deletedAt))).run();
  return (res.meta.changes ?? 0) > 0;
}
