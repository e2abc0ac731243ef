/**
 * The D1 statements of a merge, by phase (db/sharded-writes.ts): the merged-away customer moves
 * into the merges log of its own shard (`absorb`), the survivor's row is written with the combined
 * profile and the merged id in its `absorbed` (`write`, profiles/store.ts), and the merged
 * customer's identifiers are pointed at the survivor where their keys live (`repoint`).
 */
import { eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { customers, eventChunks, merges } from "../db/schema";
import type { ShardedWrites } from "../db/sharded-writes";
import type { ShardMap } from "../db/shards";
import type { StoredProfile } from "../profiles/store";
import { forgetMembershipStatements } from "../segments/members-store";

export interface MergeWrite {
  survivorId: string;
  merged: StoredProfile;
  cause: { messageId: string; keys: string[] };
  now: number;
  /**
   * The merged customer is in the merges log already (an earlier attempt moved it there and
   * failed before the survivor's row took it in): only the survivor's row and the identifiers remain.
   */
  resumed?: boolean;
}

/**
 * Adds the statements of these merges to `writes`. Absorbing: record the merge (its primary key
 * stops a second writer merging the same customer), check the merged row is still at the version
 * read (an upsert whose insert path is refused by `customers_no_resurrection` if an erasure removed
 * it), and delete it; its segment memberships go (the survivor's are evaluated on the combined
 * profile). Its events are in its own object (moved there first if its row held them:
 * store-events.ts moveRowEvents); the survivor's `absorbed` says its object has yet to take them
 * in, which it does right after the commit.
 */
export function addMergeStatements(writes: ShardedWrites, map: ShardMap, control: D1Database, merges: readonly MergeWrite[]): void {
  for (const write of merges) {
    const { survivorId, merged } = write;
    if (!write.resumed) {
      const shard = map.of(merged.id);
      const forget = forgetMembershipStatements(shard, control, merged.id, merged.segments);
      writes.add("absorb", shard, [...absorbStatements(shard, write), ...forget.members]);
      writes.add("control", control, forget.sizes);
    }
    finishMerge(writes, map, merged.id, merged.identities.map((i) => i.key), survivorId);
  }
}

/**
 * The last phase of a merge: the merged customer's identifier keys point at the survivor, each
 * where its key lives, and its record says the merge is finished.
 */
export function finishMerge(writes: ShardedWrites, map: ShardMap, mergedId: string, keys: readonly string[], survivorId: string): void {
  for (const [d1, some] of map.group(keys, (k) => k)) {
    writes.add("repoint", d1, [database(d1).run(sql`UPDATE identities SET customer_id = ${survivorId} WHERE key IN (SELECT value FROM json_each(${JSON.stringify(some)}))`)]);
  }
  const shard = map.of(mergedId);
  writes.add("repoint", shard, [database(shard).update(merges).set({ finishedAt: writes.now }).where(sql`${merges.mergedId} = ${mergedId} AND ${merges.finishedAt} IS NULL`)]);
}

function absorbStatements(d1: D1Database, { survivorId, merged, cause, now }: MergeWrite) {
  const db = database(d1);
  return [
    db.insert(merges).values({ mergedId: merged.id, survivorId, cause: JSON.stringify(cause), mergedProfile: JSON.stringify(merged), createdAt: now }),
    db.run(sql`INSERT INTO customers (id, version, created_at, updated_at) VALUES (${merged.id}, ${merged.version + 1}, ${now}, ${now}) ON CONFLICT (id) DO UPDATE SET version = excluded.version`),
    db.delete(customers).where(eq(customers.id, merged.id)),
    db.delete(eventChunks).where(eq(eventChunks.customerId, merged.id)),
  ];
}
