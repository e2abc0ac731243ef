/** Custom computed trait definitions in D1: the current version of each (no history kept). */
import { VersionMismatch } from "../db/versions";
import { CustomTraitDefinition, type CustomTrait } from "./custom-traits";

export interface StoredCustomTrait extends CustomTrait {
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: string;
  version: number;
  definition: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

const toTrait = (r: Row): StoredCustomTrait => ({ id: r.id, version: r.version, definition: CustomTraitDefinition.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export async function listCustomTraits(d1: D1Database): Promise<StoredCustomTrait[]> {
  const { results } = await d1.prepare(`SELECT * FROM computed_traits WHERE deleted_at IS NULL ORDER BY id`).all<Row>();
  return results.map(toTrait);
}

export async function getCustomTrait(d1: D1Database, id: string): Promise<StoredCustomTrait | null> {
  const row = await d1.prepare(`SELECT * FROM computed_traits WHERE id = ?1 AND deleted_at IS NULL`).bind(id).first<Row>();
  return row ? toTrait(row) : null;
}

/** Saves a new version (`expectedVersion`: refuse if someone saved meanwhile). The same definition again changes nothing. */
export async function saveCustomTrait(d1: D1Database, id: string, definition: CustomTraitDefinition, expectedVersion?: number, now = Date.now()): Promise<{ trait: StoredCustomTrait; created: boolean; changed: boolean }> {
  const existing = await d1.prepare(`SELECT * FROM computed_traits WHERE id = ?1`).bind(id).first<Row>();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const json = JSON.stringify(definition);
  const live = existing && existing.deleted_at === null ? existing : null;
  if (live && live.definition === json) return { trait: toTrait(live), created: false, changed: false };
  const version = (existing?.version ?? 0) + 1;
  // Guarded by the version read: a concurrent save of the same trait changes no row and is refused.
  const res = await d1
    .prepare(
      `INSERT INTO computed_traits (id, version, definition, created_at, updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?4, NULL)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, definition = excluded.definition, updated_at = excluded.updated_at, deleted_at = NULL,
         created_at = CASE WHEN computed_traits.deleted_at IS NULL THEN computed_traits.created_at ELSE excluded.created_at END
       WHERE computed_traits.version = ?5`,
    )
    .bind(id, version, json, now, existing?.version ?? 0)
    .run();
  if ((res.meta.changes ?? 0) === 0) throw new Error(`UNIQUE constraint failed: computed trait ${id} saved concurrently`);
  return { trait: { id, version, definition, createdAt: live?.created_at ?? now, updatedAt: now }, created: !live, changed: true };
}

export async function deleteCustomTrait(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const res = await d1.prepare(`UPDATE computed_traits SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL`).bind(id, now).run();
  return (res.meta.changes ?? 0) > 0;
}
