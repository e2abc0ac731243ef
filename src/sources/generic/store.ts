/** Generic source definitions in D1: the current version of each. */
import { VersionMismatch } from "../../db/versions";
import { SourceDefinition } from "./definition";

export interface StoredSource {
  id: string;
  version: number;
  definition: SourceDefinition;
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

const toSource = (r: Row): StoredSource => ({ id: r.id, version: r.version, definition: SourceDefinition.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export async function getSource(d1: D1Database, id: string): Promise<StoredSource | null> {
  const row = await d1.prepare(`SELECT * FROM sources WHERE id = ?1 AND deleted_at IS NULL`).bind(id).first<Row>();
  return row ? toSource(row) : null;
}

export async function listSources(d1: D1Database): Promise<StoredSource[]> {
  return (await d1.prepare(`SELECT * FROM sources WHERE deleted_at IS NULL ORDER BY id`).all<Row>()).results.map(toSource);
}

export async function saveSource(d1: D1Database, id: string, definition: SourceDefinition, expectedVersion?: number, now = Date.now()): Promise<{ source: StoredSource; created: boolean }> {
  const existing = await d1.prepare(`SELECT * FROM sources WHERE id = ?1`).bind(id).first<Row>();
  if (expectedVersion !== undefined && (existing?.version ?? 0) !== expectedVersion) throw new VersionMismatch(existing?.version ?? 0);
  const live = existing && existing.deleted_at === null ? existing : null;
  const version = (existing?.version ?? 0) + 1;
  const res = await d1
    .prepare(
      `INSERT INTO sources (id, version, definition, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, definition = excluded.definition, updated_at = excluded.updated_at, deleted_at = NULL WHERE sources.version = ?5`,
    )
    .bind(id, version, JSON.stringify(definition), now, existing?.version ?? 0)
    .run();
  if ((res.meta.changes ?? 0) === 0) throw new Error(`UNIQUE constraint failed: source ${id} saved concurrently`);
  return { source: { id, version, definition, createdAt: live?.created_at ?? now, updatedAt: now }, created: !live };
}

export async function deleteSource(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const res = await d1.prepare(`UPDATE sources SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL`).bind(id, now).run();
  return (res.meta.changes ?? 0) > 0;
}
