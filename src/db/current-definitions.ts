/**
 * Definitions kept as their current version only (custom computed traits, webhook sources): a
 * table of `id, version, definition, created_at, updated_at, deleted_at`. Saving bumps the
 * version, guarded by the version read, so a concurrent save of the same id is refused (and
 * `expectedVersion` refuses a save over someone else's); deleting keeps the row, marked.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { database } from "./client";
import { alertRules, computedTraits, enrichers, sources, surveys, trackingPlans } from "./schema";
import { VersionMismatch } from "./versions";

export type DefinitionRow = typeof computedTraits.$inferSelect;

const TABLES = { computed_traits: computedTraits, sources, tracking_plans: trackingPlans, enrichers, surveys, alert_rules: alertRules };
export type DefinitionTable = keyof typeof TABLES;

export async function getDefinition(d1: D1Database, table: DefinitionTable, id: string): Promise<DefinitionRow | null> {
  const t = TABLES[table];
  return (await database(d1).select().from(t).where(and(eq(t.id, id), isNull(t.deletedAt))).get()) ?? null;
}

export async function listDefinitions(d1: D1Database, table: DefinitionTable): Promise<DefinitionRow[]> {
  const t = TABLES[table];
  return database(d1).select().from(t).where(isNull(t.deletedAt)).orderBy(t.id).all();
}

/** Saves `json` as the next version; the same definition again changes nothing (`changed: false`). */
export async function saveDefinition(d1: D1Database, table: DefinitionTable, id: string, json: string, expectedVersion?: number, now = Date.now()): Promise<{ row: DefinitionRow; created: boolean; changed: boolean }> {
  const db = database(d1);
  const t = TABLES[table];
  const existing = await db.select().from(t).where(eq(t.id, id)).get();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const live = existing && existing.deletedAt === null ? existing : null;
  if (live && live.definition === json) return { row: live, created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  const res = await db
    .insert(t)
    .values({ id, version, definition: json, createdAt: now, updatedAt: now, deletedAt: null })
    .onConflictDoUpdate({
      target: t.id,
      // A deleted definition saved again is created anew.
      set: { version, definition: json, updatedAt: now, deletedAt: null, createdAt: sql`CASE WHEN ${t.deletedAt} IS NULL THEN ${t.createdAt} ELSE excluded.created_at END` },
      // Guarded by the version read: a save in between makes this one change nothing.
      setWhere: eq(t.version, existing?.version ?? 0),
    })
    .run();
  // Another save got there between the read and this write.
  if ((res.meta.changes ?? 0) === 0) throw new Error(`UNIQUE constraint failed: ${table} ${id} saved concurrently`);
  return { row: { id, version, definition: json, createdAt: live?.createdAt ?? now, updatedAt: now, deletedAt: null }, created: !live, changed: true };
}

export async function deleteDefinition(d1: D1Database, table: DefinitionTable, id: string, now = Date.now()): Promise<boolean> {
  const t = TABLES[table];
  const res = await database(d1).update(t).set({ deletedAt: now, updatedAt: now }).where(and(eq(t.id, id), isNull(t.deletedAt))).run();
  return (res.meta.changes ?? 0) > 0;
}

/** A definition as its store returns it: parsed, with its version and times. */
export interface StoredDefinition<T> {
  id: string;
  version: number;
  definition: T;
  createdAt: number;
  updatedAt: number;
}

/**
 * The typed store of one table: get, list, save and delete, with each row's definition parsed
 * (so a row written by an older version of the schema is read as the current one reads it).
 */
export function definitionStore<T>(table: DefinitionTable, parse: (value: unknown) => T) {
  const toStored = (r: DefinitionRow): StoredDefinition<T> => ({ id: r.id, version: r.version, definition: parse(JSON.parse(r.definition)), createdAt: r.createdAt, updatedAt: r.updatedAt });
  return {
    async get(d1: D1Database, id: string): Promise<StoredDefinition<T> | null> {
      const row = await getDefinition(d1, table, id);
      return row ? toStored(row) : null;
    },
    list: async (d1: D1Database): Promise<StoredDefinition<T>[]> => (await listDefinitions(d1, table)).map(toStored),
    /** Saves the next version (`expectedVersion`: refuse if someone saved meanwhile); the same definition again changes nothing. */
    async save(d1: D1Database, id: string, definition: T, expectedVersion?: number, now = Date.now()): Promise<{ stored: StoredDefinition<T>; created: boolean; changed: boolean }> {
      const { row, created, changed } = await saveDefinition(d1, table, id, JSON.stringify(definition), expectedVersion, now);
      return { stored: toStored(row), created, changed };
    },
    delete: (d1: D1Database, id: string, now = Date.now()) => deleteDefinition(d1, table, id, now),
  };
}
