/**
 * Content blocks in D1. Saving writes a new version (drafts: nothing is served until
 * published); publishing points the block at one of its versions; rollback publishes an older
 * one. The edge reads published blocks from the KV manifest (manifest.ts), not from here.
 */
import { and, desc, eq, isNotNull, isNull } from "drizzle-orm";
import { database, type Database } from "../db/client";
import { VersionMismatch } from "../db/versions";
import { blocks, blockVersions } from "../db/schema";
import { runBatch } from "../db/statements";
import { BlockDefinition } from "./definition";

export interface StoredBlock {
  id: string;
  version: number;
  publishedVersion: number | null;
  definition: BlockDefinition;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface PublishedBlock {
  id: string;
  version: number;
  definition: BlockDefinition;
}

const parseDefinition = (json: string) => BlockDefinition.parse(JSON.parse(json));

async function versionRow(db: Database, id: string, version: number) {
  return db.select().from(blockVersions).where(and(eq(blockVersions.blockId, id), eq(blockVersions.version, version))).get();
}

/**
 * Saves a new version. With `expectedVersion`, refuses (VersionMismatch) when someone else
 * saved in between. Saving the newest definition again creates no version.
 */
export async function saveBlock(d1: D1Database, id: string, definition: BlockDefinition, expectedVersion?: number, now = Date.now()): Promise<{ block: StoredBlock; created: boolean }> {
  const db = database(d1);
  const existing = await db.select().from(blocks).where(eq(blocks.id, id)).get();
  const current = existing?.version ?? 0;
  if (expectedVersion !== undefined && current !== expectedVersion) throw new VersionMismatch(current);
  const json = JSON.stringify(definition);
  if (existing && !existing.deletedAt) {
    const newest = await versionRow(db, id, existing.version);
    if (newest?.definition === json) return { block: { ...existing, definition }, created: false };
  }
  const version = (existing?.version ?? 0) + 1;
  // A deleted block comes back unpublished.
  const publishedVersion = existing && !existing.deletedAt ? existing.publishedVersion : null;
  // The version row's primary key makes two concurrent saves of the same version fail, not interleave.
  await runBatch(d1, [
    db.insert(blockVersions).values({ blockId: id, version, definition: json, createdAt: now }),
    db
      .insert(blocks)
      .values({ id, version, publishedVersion, createdAt: existing?.createdAt ?? now, updatedAt: now, deletedAt: null })
      .onConflictDoUpdate({ target: blocks.id, set: { version, publishedVersion, updatedAt: now, deletedAt: null } }),
  ]);
  return { block: { id, version, publishedVersion, definition, createdAt: existing?.createdAt ?? now, updatedAt: now, deletedAt: null }, created: !existing };
}

export async function getBlock(d1: D1Database, id: string): Promise<StoredBlock | null> {
  const db = database(d1);
  const row = await db.select().from(blocks).where(eq(blocks.id, id)).get();
  if (!row) return null;
  const version = await versionRow(db, id, row.version);
  return version ? { ...row, definition: parseDefinition(version.definition) } : null;
}

export async function getBlockVersion(d1: D1Database, id: string, version: number): Promise<BlockDefinition | null> {
  const db = database(d1);
  const row = await versionRow(db, id, version);
  return row ? parseDefinition(row.definition) : null;
}

export async function listBlocks(d1: D1Database) {
  const db = database(d1);
  return db.select().from(blocks).where(isNull(blocks.deletedAt)).orderBy(blocks.id).all();
}

export async function listBlockVersions(d1: D1Database, id: string) {
  const db = database(d1);
  const rows = await db.select().from(blockVersions).where(eq(blockVersions.blockId, id)).orderBy(desc(blockVersions.version)).all();
  return rows.map((r) => ({ version: r.version, definition: parseDefinition(r.definition), createdAt: r.createdAt }));
}

/** Every published block at its published version: what the manifest holds. */
export async function publishedBlocks(d1: D1Database): Promise<PublishedBlock[]> {
  const db = database(d1);
  const rows = await db
    .select({ id: blocks.id, version: blocks.publishedVersion, definition: blockVersions.definition })
    .from(blocks)
    .innerJoin(blockVersions, and(eq(blockVersions.blockId, blocks.id), eq(blockVersions.version, blocks.publishedVersion)))
    .where(and(isNull(blocks.deletedAt), isNotNull(blocks.publishedVersion)))
    .all();
  return rows.map((r) => ({ id: r.id, version: r.version!, definition: parseDefinition(r.definition) }));
}

/** Points a block at one of its versions (publish, or rollback to an older one). */
export async function setPublishedVersion(d1: D1Database, id: string, version: number | null, now = Date.now()): Promise<boolean> {
  const db = database(d1);
  const res = await db.update(blocks).set({ publishedVersion: version, updatedAt: now }).where(and(eq(blocks.id, id), isNull(blocks.deletedAt))).run();
  return (res.meta.changes ?? 0) > 0;
}

export async function deleteBlock(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const db = database(d1);
  const res = await db.update(blocks).set({ deletedAt: now, publishedVersion: null, updatedAt: now }).where(and(eq(blocks.id, id), isNull(blocks.deletedAt))).run();
  return (res.meta.changes ?? 0) > 0;
}
