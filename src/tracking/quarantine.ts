/** The quarantine: messages refused at ingest, with their reason and raw payload. */
import { desc, lt, sql } from "drizzle-orm";
import { database, } from "../db/client";
import { quarantine } from "../db/schema";
import type { RejectedMessage } from "../model/events";

export interface Quarantined {
  item: RejectedMessage;
  sourceId: string;
  receivedAt: number;
}

/**
 * The one way rows enter the quarantine (refused at ingest, or unattributable in the pipeline).
 * Plain D1 statements, so they can join any D1 batch. Idempotent: a redelivered message inserts
 * nothing twice (unique id).
 */
export function quarantineStatements(d1: D1Database, items: readonly Quarantined[]): D1PreparedStatement[] {
  return items.map(({ item, sourceId, receivedAt }) =>
    d1
      .prepare(`INSERT INTO quarantine (id, received_at, source_id, endpoint, reason, errors, raw, truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING`)
      .bind(item.id, receivedAt, sourceId, item.endpoint, item.reason, JSON.stringify(item.errors), item.raw, item.truncated ? 1 : 0),
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
