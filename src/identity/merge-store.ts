/**
 * D1 statements and reads for merges (absorbing a customer: pipeline/merge-statements.ts): recording refusals,
 * quarantining events no identifier can attribute, unmerged pairs. Following merged-away ids:
 * profiles/merges.ts.
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { identityRefusals, mergeBlocks } from "../db/schema";
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

export async function countRefusals(d1: D1Database): Promise<{ rule: string; count: number }[]> {
  const db = database(d1);
  const rows = await db.select({ rule: identityRefusals.rule }).from(identityRefusals).all();
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.rule, (counts.get(r.rule) ?? 0) + 1);
  return [...counts].map(([rule, count]) => ({ rule, count }));
}
