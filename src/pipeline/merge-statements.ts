/** The D1 statements of a merge, written in the same batch as the survivor's combined profile. */
import { eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { customers, eventChunks, merges } from "../db/schema";
import type { Statement } from "../db/statements";
import type { StoredProfile } from "../profiles/store";
import { forgetMembershipStatements } from "../segments/members-store";

export interface MergeWrite {
  survivorId: string;
  merged: StoredProfile;
  cause: { messageId: string; keys: string[] };
  now: number;
}

/**
 * Absorbing `merged` into the survivor: record the merge (its primary key stops a second writer
 * merging the same customer), check the merged row is still at the version read (an upsert whose
 * insert path is refused by `customers_no_resurrection` if an erasure removed it), delete it, and
 * point its identities, event chunks and earlier merges at the survivor. Its segment memberships
 * go (the survivor's are evaluated on the combined profile). The survivor's own row is
 * written by the same D1 batch with the combined profile. Its events are in its own object (moved
 * there first if its row held them: store-events.ts moveRowEvents); the merge record says the
 * survivor's object has yet to take them in (`events_moved_at` NULL), which it does right after.
 */
export function mergeStatements(d1: D1Database, writes: readonly MergeWrite[]): Statement[] {
  const db = database(d1);
  return writes.flatMap(({ survivorId, merged, cause, now }) => [
    db.insert(merges).values({ mergedId: merged.id, survivorId, cause: JSON.stringify(cause), mergedProfile: JSON.stringify(merged), createdAt: now }),
    db.run(sql`INSERT INTO customers (id, version, created_at, updated_at) VALUES (${merged.id}, ${merged.version + 1}, ${now}, ${now}) ON CONFLICT (id) DO UPDATE SET version = excluded.version`),
    ...forgetMembershipStatements(d1, merged.id),
    db.delete(customers).where(eq(customers.id, merged.id)),
    db.run(sql`UPDATE identities SET customer_id = ${survivorId} WHERE key IN (SELECT value FROM json_each(${JSON.stringify(merged.identities.map((i) => i.key))}))`),
    db.delete(eventChunks).where(eq(eventChunks.customerId, merged.id)),
    db.update(merges).set({ survivorId }).where(eq(merges.survivorId, merged.id)),
  ]);
}
