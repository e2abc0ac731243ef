/**
 * The merges log, read: a merged-away customer's record (the survivor, the cause, the profile as
 * it was) is in the merges table of its own shard (db/shards.ts), written by the merge's `absorb`
 * phase (pipeline/merge-statements.ts); a survivor lists whom it absorbed in its row.
 */
import { eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { merges } from "../db/schema";
import { type ShardMap, shards } from "../db/shards";
import { RowEvents } from "./row-events";
import { loadProfile, type StoredProfile } from "./store";

/** The survivor a merged-away id was merged into, or null. */
export async function mergedInto(map: ShardMap, customerId: string): Promise<string | null> {
  const db = database(map.of(customerId));
  const row = await db.select({ survivorId: merges.survivorId }).from(merges).where(eq(merges.mergedId, customerId)).get();
  return row?.survivorId ?? null;
}

export interface MergedAway {
  survivorId: string;
  /** The customer as it was when it was merged away. */
  profile: StoredProfile;
}

/** The merge records of these ids (those that were merged away), each read in its id's shard. */
export async function loadMergedAway(map: ShardMap, ids: readonly string[]): Promise<Map<string, MergedAway>> {
  const rows = await map.readEach(ids, (id) => id, (d1, some) =>
    database(d1)
      .select({ mergedId: merges.mergedId, survivorId: merges.survivorId, mergedProfile: merges.mergedProfile })
      .from(merges)
      .where(sql`${merges.mergedId} IN (SELECT value FROM json_each(${JSON.stringify(some)}))`)
      .all(),
  );
  return new Map(rows.map((r) => [r.mergedId, { survivorId: r.survivorId, profile: profileOfRecord(r.mergedProfile) }]));
}

/** A merged-away profile as its record keeps it (its events were in its object: the pipeline moved them there before merging). */
export function profileOfRecord(json: string): StoredProfile {
  const p = JSON.parse(json) as Omit<StoredProfile, "recentEvents" | "absorbed"> & { absorbed?: Record<string, number> };
  return { ...p, absorbed: p.absorbed ?? {}, eventSeq: p.eventSeq ?? 0, recentEvents: RowEvents.stored(p.id) };
}

export interface MergeRecord {
  mergedId: string;
  survivorId: string;
  cause: { messageId: string; keys: string[] };
  createdAt: string;
}

/**
 * The merges into a survivor (those it absorbed, directly or through a customer it absorbed),
 * newest first: the records of the ids in its `absorbed`, each in its own shard.
 */
export async function listMerges(map: ShardMap, survivor: Pick<StoredProfile, "id" | "absorbed">): Promise<MergeRecord[]> {
  const rows = await map.readEach(Object.keys(survivor.absorbed), (id) => id, (d1, some) =>
    database(d1)
      .select({ mergedId: merges.mergedId, cause: merges.cause, createdAt: merges.createdAt })
      .from(merges)
      .where(sql`${merges.mergedId} IN (SELECT value FROM json_each(${JSON.stringify(some)}))`)
      .all(),
  );
  return rows
    .sort((a, b) => b.createdAt - a.createdAt || a.mergedId.localeCompare(b.mergedId))
    .map((r) => ({ mergedId: r.mergedId, survivorId: survivor.id, cause: JSON.parse(r.cause) as MergeRecord["cause"], createdAt: new Date(r.createdAt).toISOString() }));
}

/** The customers merged into this one whose events its object has yet to take in. */
export const pendingEventMoves = (profile: Pick<StoredProfile, "absorbed">): string[] =>
  Object.entries(profile.absorbed)
    .filter(([, movedAt]) => movedAt === 0)
    .map(([id]) => id);

/** The merges into a customer by id (none for a customer that does not exist). */
export async function mergesInto(env: Env, customerId: string): Promise<MergeRecord[]> {
  const map = shards(env);
  const profile = await loadProfile(map, customerId);
  return profile ? listMerges(map, profile) : [];
}
