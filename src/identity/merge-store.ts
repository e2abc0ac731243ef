/**
 * D1 statements and reads for merges (absorbing a customer: pipeline/merge-statements.ts): recording refusals,
 * quarantining events no identifier can attribute, and following merged-away ids.
 */
import { desc, eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { identityRefusals, mergeBlocks, merges } from "../db/schema";
import type { Statement } from "../db/statements";
import type { StoredEvent } from "../model/events";
import { quarantineStatements } from "../tracking/quarantine";
import type { Refusal } from "./resolve";

export function refusalStatements(d1: D1Database, refusals: readonly Refusal[], now: number): Statement[] {
  const db = database(d1);
  return refusals.map((r) =>
    db
      .insert(identityRefusals)
      .values({ id: `${r.rule}:${r.messageId}:${r.customerIds.join(",")}`, rule: r.rule, customerIds: JSON.stringify(r.customerIds), cause: JSON.stringify({ messageId: r.messageId, keys: r.keys }), createdAt: now })
      .onConflictDoNothing({ target: identityRefusals.id }),
  );
}

/** Events whose every identifier is a blocked value cannot be attributed: they are quarantined. */
export function unattributableStatements(d1: D1Database, events: readonly StoredEvent[], now: number): Statement[] {
  const errors = [{ field: "userId", message: "every identifier is a blocked value (empty, 0, -1, null, anonymous, undefined…)" }];
  return quarantineStatements(
    d1,
    events.map((e) => ({ item: { id: `qb_${e.messageId}`, endpoint: "pipeline", reason: "blocked_identifier", errors, raw: JSON.stringify(e), truncated: false }, sourceId: e.sourceId, receivedAt: now })),
  );
}

/** The unmerged pairs among these customers (see resolveGroups). */
export async function loadMergeBlocks(d1: D1Database, customerIds: readonly string[]): Promise<Set<string>> {
  const db = database(d1);
  if (customerIds.length < 2) return new Set();
  const ids = JSON.stringify(customerIds);
  const rows = await db.all<{ pair: string }>(sql`
    SELECT pair FROM ${mergeBlocks}
    WHERE substr(pair, 1, instr(pair, '|') - 1) IN (SELECT value FROM json_each(${ids}))
      AND substr(pair, instr(pair, '|') + 1) IN (SELECT value FROM json_each(${ids}))`);
  return new Set(rows.map((r) => r.pair));
}

/** The survivor a merged-away id now belongs to, or null. */
export async function mergedInto(d1: D1Database, customerId: string): Promise<string | null> {
  const db = database(d1);
  const row = await db.select({ survivorId: merges.survivorId }).from(merges).where(eq(merges.mergedId, customerId)).get();
  return row?.survivorId ?? null;
}

export interface MergeRecord {
  mergedId: string;
  survivorId: string;
  cause: { messageId: string; keys: string[] };
  createdAt: string;
}

export async function listMerges(d1: D1Database, survivorId: string): Promise<MergeRecord[]> {
  const db = database(d1);
  const rows = await db.select().from(merges).where(eq(merges.survivorId, survivorId)).orderBy(desc(merges.createdAt)).all();
  return rows.map((r) => ({ mergedId: r.mergedId, survivorId: r.survivorId, cause: JSON.parse(r.cause) as MergeRecord["cause"], createdAt: new Date(r.createdAt).toISOString() }));
}

export async function countRefusals(d1: D1Database): Promise<{ rule: string; count: number }[]> {
  const db = database(d1);
  const rows = await db.select({ rule: identityRefusals.rule }).from(identityRefusals).all();
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.rule, (counts.get(r.rule) ?? 0) + 1);
  return [...counts].map(([rule, count]) => ({ rule, count }));
}

/**
 * Merges of these survivors whose merged-away customer's events are still in its own object
 * (merges.events_moved_at NULL): survivor id → merged-away ids. The survivor's object takes them
 * in before it deduplicates anything (sessions/event-store.ts).
 */
export async function loadPendingEventMoves(d1: D1Database, survivorIds: readonly string[]): Promise<Map<string, string[]>> {
  const db = database(d1);
  if (survivorIds.length === 0) return new Map();
  const rows = await db.all<{ merged_id: string; survivor_id: string }>(sql`
    SELECT merged_id, survivor_id FROM ${merges}
    WHERE survivor_id IN (SELECT value FROM json_each(${JSON.stringify(survivorIds)})) AND events_moved_at IS NULL`);
  const pending = new Map<string, string[]>();
  for (const r of rows) pending.set(r.survivor_id, [...(pending.get(r.survivor_id) ?? []), r.merged_id]);
  return pending;
}

/** Records that these merged-away customers' events are in their survivors' objects now. */
export function eventsMovedStatement(d1: D1Database, mergedIds: readonly string[], now: number): Statement | null {
  if (mergedIds.length === 0) return null;
  return database(d1).run(sql`UPDATE ${merges} SET events_moved_at = ${now} WHERE merged_id IN (SELECT value FROM json_each(${JSON.stringify(mergedIds)})) AND events_moved_at IS NULL`);
}
