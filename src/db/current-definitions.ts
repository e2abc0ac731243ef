/**
 * Definitions kept as their current version only (custom computed traits, webhook sources): a
 * table of `id, version, definition, created_at, updated_at, deleted_at`. Saving bumps the
 * version, guarded by the version read, so a concurrent save of the same id is refused (and
 * `expectedVersion` refuses a save over someone else's); deleting keeps the row, marked.
 */
import { VersionMismatch } from "./versions";

export interface DefinitionRow {
  id: string;
  version: number;
  definition: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export type DefinitionTable = "computed_traits" | "sources" | "tracking_plans" | "enrichers";

export async function getDefinition(d1: D1Database, table: DefinitionTable, id: string): Promise<DefinitionRow | null> {
  return d1.prepare(`SELECT * FROM ${table} WHERE id = ?1 AND deleted_at IS NULL`).bind(id).first<DefinitionRow>();
}

export async function listDefinitions(d1: D1Database, table: DefinitionTable): Promise<DefinitionRow[]> {
  return (await d1.prepare(`SELECT * FROM ${table} WHERE deleted_at IS NULL ORDER BY id`).all<DefinitionRow>()).results;
}

/** Saves `json` as the next version; the same definition again changes nothing (`changed: false`). */
export async function saveDefinition(d1: D1Database, table: DefinitionTable, id: string, json: string, expectedVersion?: number, now = Date.now()): Promise<{ row: DefinitionRow; created: boolean; changed: boolean }> {
  const existing = await d1.prepare(`SELECT * FROM ${table} WHERE id = ?1`).bind(id).first<DefinitionRow>();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const live = existing && existing.deleted_at === null ? existing : null;
  if (live && live.definition === json) return { row: live, created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  const res = await d1
    .prepare(
      `INSERT INTO ${table} (id, version, definition, created_at, updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?4, NULL)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, definition = excluded.definition, updated_at = excluded.updated_at, deleted_at = NULL,
         created_at = CASE WHEN ${table}.deleted_at IS NULL THEN ${table}.created_at ELSE excluded.created_at END
       WHERE ${table}.version = ?5`,
    )
    .bind(id, version, json, now, existing?.version ?? 0)
    .run();
  // Another save got there between the read and this write.
  if ((res.meta.changes ?? 0) === 0) throw new Error(`UNIQUE constraint failed: ${table} ${id} saved concurrently`);
  return { row: { id, version, definition: json, created_at: live?.created_at ?? now, updated_at: now, deleted_at: null }, created: !live, changed: true };
}

export async function deleteDefinition(d1: D1Database, table: DefinitionTable, id: string, now = Date.now()): Promise<boolean> {
  const res = await d1.prepare(`UPDATE ${table} SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL`).bind(id, now).run();
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
  const toStored = (r: DefinitionRow): StoredDefinition<T> => ({ id: r.id, version: r.version, definition: parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });
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
