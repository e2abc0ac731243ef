/** The quarantine: messages refused at ingest, with their reason and raw payload. */
import { desc, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { quarantine } from "../db/schema";
import type { Statement } from "../db/statements";
import type { RejectedMessage } from "../model/events";

export interface Quarantined {
  item: RejectedMessage;
  sourceId: string;
  receivedAt: number;
}

/**
 * The one way rows enter the quarantine (refused at ingest, or unattributable in the pipeline).
 * Statements, so they can join any batch (db/statements.ts). Idempotent: a redelivered message inserts
 * nothing twice (unique id).
 */
export function quarantineStatements(d1: D1Database, items: readonly Quarantined[]): Statement[] {
  const db = database(d1);
  return items.map(({ item, sourceId, receivedAt }) =>
    db
      .insert(quarantine)
      .values({ id: item.id, receivedAt, sourceId, endpoint: item.endpoint, reason: item.reason, errors: JSON.stringify(item.errors), raw: item.raw, truncated: item.truncated })
      .onConflictDoNothing({ target: quarantine.id }),
  );
}

export interface QuarantinedMessage {
  id: string;
  seq: number;
  receivedAt: string;
  sourceId: string;
  endpoint: string;
  reason: string;
  errors: { field: string; message: string }[];
  raw: string;
  truncated: boolean;
}

/** Newest first; `before` is the `seq` cursor of the previous page. */
export async function listQuarantine(d1: D1Database, limit: number, before?: number): Promise<QuarantinedMessage[]> {
  const db = database(d1);
  const rows = await db
    .select()
    .from(quarantine)
    .where(before === undefined ? sql`1 = 1` : lt(quarantine.seq, before))
    .orderBy(desc(quarantine.seq))
    .limit(limit)
    .all();
  return rows.map((r) => ({
    id: r.id,
    seq: r.seq,
    receivedAt: new Date(r.receivedAt).toISOString(),
    sourceId: r.sourceId,
    endpoint: r.endpoint,
    reason: r.reason,
    errors: JSON.parse(r.errors) as QuarantinedMessage["errors"],
    raw: r.raw,
    truncated: r.truncated,
  }));
}
