/**
 * D1 statements and reads for merges: absorbing a customer into a survivor, recording refusals,
 * quarantining events no identifier can attribute, and following merged-away ids.
 */
import { desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { identityRefusals, mergeBlocks, merges } from "../db/schema";
import type { StoredEvent } from "../model/events";
import type { StoredProfile } from "../profiles/store";
import { quarantineStatements } from "../tracking/quarantine";
import { forgetMembershipStatements } from "../segments/members-store";
import type { Refusal } from "./resolve";

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

export function refusalStatements(d1: D1Database, refusals: readonly Refusal[], now: number): D1PreparedStatement[] {
  return refusals.map((r) =>
    d1
      .prepare(`INSERT INTO identity_refusals (id, rule, customer_ids, cause, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING`)
      .bind(`${r.rule}:${r.messageId}:${r.customerIds.join(",")}`, r.rule, JSON.stringify(r.customerIds), JSON.stringify({ messageId: r.messageId, keys: r.keys }), now),
  );
}

/** Events whose every identifier is a blocked value cannot be attributed: they are quarantined. */
export function unattributableStatements(d1: D1Database, events: readonly StoredEvent[], now: number): D1PreparedStatement[] {
  const errors = [{ field: "userId", message: "every identifier is a blocked value (empty, 0, -1, null, anonymous, undefined…)" }];
  return quarantineStatements(
    d1,
    events.map((e) => ({ item: { id: `qb_${e.messageId}`, endpoint: "pipeline", reason: "blocked_identifier", errors, raw: JSON.stringify(e), truncated: false }, sourceId: e.sourceId, receivedAt: now })),
  );
}

/** The unmerged pairs among these customers (see resolveGroups). */
export async function loadMergeBlocks(db: Database, customerIds: readonly string[]): Promise<Set<string>> {
  if (customerIds.length < 2) return new Set();
  const ids = JSON.stringify(customerIds);
  const rows = await db.all<{ pair: string }>(sql`
    SELECT pair FROM ${mergeBlocks}
    WHERE substr(pair, 1, instr(pair, '|') - 1) IN (SELECT value FROM json_each(${ids}))
      AND substr(pair, instr(pair, '|') + 1) IN (SELECT value FROM json_each(${ids}))`);
  return new Set(rows.map((r) => r.pair));
}

/** The survivor a merged-away id now belongs to, or null. */
export async function mergedInto(db: Database, customerId: string): Promise<string | null> {
  const row = await db.select({ survivorId: merges.survivorId }).from(merges).where(eq(merges.mergedId, customerId)).get();
  return row?.survivorId ?? null;
}

export interface MergeRecord {
  mergedId: string;
  survivorId: string;
  cause: { messageId: string; keys: string[] };
  createdAt: string;
}

export async function listMerges(db: Database, survivorId: string): Promise<MergeRecord[]> {
  const rows = await db.select().from(merges).where(eq(merges.survivorId, survivorId)).orderBy(desc(merges.createdAt)).all();
  return rows.map((r) => ({ mergedId: r.mergedId, survivorId: r.survivorId, cause: JSON.parse(r.cause) as MergeRecord["cause"], createdAt: new Date(r.createdAt).toISOString() }));
}

export async function countRefusals(db: Database): Promise<{ rule: string; count: number }[]> {
  const rows = await db.select({ rule: identityRefusals.rule }).from(identityRefusals).all();
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.rule, (counts.get(r.rule) ?? 0) + 1);
  return [...counts].map(([rule, count]) => ({ rule, count }));
}
