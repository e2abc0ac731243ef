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
