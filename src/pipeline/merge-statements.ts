/** The D1 statements of a merge, written in the same batch as the survivor's combined profile. */
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
 * written by the same D1 batch with the combined profile.
 */
export function mergeStatements(d1: D1Database, writes: readonly MergeWrite[]): D1PreparedStatement[] {
  return writes.flatMap(({ survivorId, merged, cause, now }) => [
    d1.prepare(`INSERT INTO merges (merged_id, survivor_id, cause, merged_profile, created_at) VALUES (?1, ?2, ?3, ?4, ?5)`).bind(merged.id, survivorId, JSON.stringify(cause), JSON.stringify(merged), now),
    d1
      .prepare(`INSERT INTO customers (id, version, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (id) DO UPDATE SET version = excluded.version`)
      .bind(merged.id, merged.version + 1, now),
    ...forgetMembershipStatements(d1, merged.id),
    d1.prepare(`DELETE FROM customers WHERE id = ?1`).bind(merged.id),
    d1.prepare(`UPDATE identities SET customer_id = ?1 WHERE key IN (SELECT value FROM json_each(?2))`).bind(survivorId, JSON.stringify(merged.identities.map((i) => i.key))),
    d1.prepare(`UPDATE event_chunks SET customer_id = ?1 WHERE customer_id = ?2`).bind(survivorId, merged.id),
    d1.prepare(`UPDATE merges SET survivor_id = ?1 WHERE survivor_id = ?2`).bind(survivorId, merged.id),
  ]);
}
