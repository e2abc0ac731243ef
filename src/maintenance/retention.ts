/**
 * The daily retention job (cron trigger). Packed events are kept EVENT_RETENTION_DAYS from
 * receipt, which is also the horizon of messageId deduplication (each customer's object expires
 * its own on its alarm; this job takes what D1 rows still hold), and so is the delivery log of
 * fired triggers. The quarantine, tracking-plan violations and replayed dead letters are kept 30
 * days; pending dead letters stay until replayed. Days of product viewers older than the catalog audience window go.
 */
import { shards } from "../db/shards";
import { dayOf } from "../catalog/activity";
import { deleteOldStats } from "../catalog/store";
import { sql } from "drizzle-orm";
import { readConfig } from "../model/config";
import { database, type Database } from "../db/client";
import { log } from "../kernel/log";

const DAY_MS = 86_400_000;
export const QUARANTINE_RETENTION_DAYS = 30;
/** Deletes go in slices so one run never holds D1's single writer for long. */
const SLICE = 2_000;
const MAX_SLICES = 200;

async function deleteInSlices(db: Database, table: string, where: string, cutoff: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_SLICES; i++) {
    const result = await db.run(sql.raw(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where.replace("?", String(Math.floor(cutoff)))} LIMIT ${SLICE})`));
    const changes = result.meta.changes ?? 0;
    total += changes;
    if (changes < SLICE) break;
  }
  return total;
}

/** Days of product viewers before `cutoffDay`. product_viewers is WITHOUT ROWID: sliced by its primary key instead. */
async function deleteOldViews(db: Database, cutoffDay: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_SLICES; i++) {
    const result = await db.run(sql`
      DELETE FROM product_viewers WHERE (product_id, day) IN (
        SELECT product_id, day FROM product_viewers WHERE day < ${cutoffDay} LIMIT ${SLICE})`);
    const changes = result.meta.changes ?? 0;
    total += changes;
    if (changes < SLICE) break;
  }
  return total;
}

/**
 * Events still kept in customer rows (`recent_events`, rows no batch has touched since events
 * moved into the customers' objects, where each object's alarm expires its own) expire like the
 * others: rows holding any event received before the cutoff are rewritten without it, in slices.
 * The profile itself (and its version) does not change. The row's summary of its events (ids and
 * length) is cleared.
 */
async function trimRecentEvents(db: Database, cutoff: number): Promise<number> {
  const iso = new Date(cutoff).toISOString();
  const expired = sql`customers.event_seq IS NULL AND EXISTS (SELECT 1 FROM json_each(customers.recent_events) WHERE json_extract(value, '$.receivedAt') < ${iso})`;
  let total = 0;
  for (let i = 0; i < MAX_SLICES; i++) {
    const result = await db.run(sql`
      UPDATE customers SET recent_events = (
        SELECT json_group_array(json(value)) FROM json_each(customers.recent_events) WHERE json_extract(value, '$.receivedAt') >= ${iso}),
        recent_ids = NULL, recent_length = NULL
      WHERE id IN (SELECT id FROM customers WHERE ${expired} LIMIT ${SLICE})`);
    const changes = result.meta.changes ?? 0;
    total += changes;
    if (changes < SLICE) break;
  }
  return total;
}

/** Daily product popularity counts are kept this long (popular products rank the last 14 days). */
const PRODUCT_STATS_DAYS = 90;

export async function runRetention(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const config = readConfig(env);
  const db = database(env.DB);
  const eventCutoff = now - config.eventRetentionDays * DAY_MS;
  const auxCutoff = now - QUARANTINE_RETENTION_DAYS * DAY_MS;
  // What shards hold (rows from before events moved into the objects, product viewers), in each.
  let eventChunks = 0;
  let customersTrimmed = 0;
  let productViews = 0;
  for (const shard of shards(env).databases) {
    const sdb = database(shard);
    eventChunks += await deleteInSlices(sdb, "event_chunks", "received_at < ?", eventCutoff);
    customersTrimmed += await trimRecentEvents(sdb, eventCutoff);
    productViews += await deleteOldViews(sdb, dayOf(now - config.catalogAudienceDays * DAY_MS));
  }
  const deleted = {
    eventChunks,
    customersTrimmed,
    quarantine: await deleteInSlices(db, "quarantine", "received_at < ?", auxCutoff),
    trackingViolations: await deleteInSlices(db, "tracking_violations", "received_at < ?", auxCutoff),
    deadLetters: await deleteInSlices(db, "dead_letters", "replayed_at IS NOT NULL AND replayed_at < ?", auxCutoff),
    packFailures: await deleteInSlices(db, "pack_failures", "updated_at < ?", auxCutoff),
    deliveries: await deleteInSlices(db, "deliveries", "fired_at < ?", eventCutoff),
    productViews,
    productStats: await deleteOldStats(env.DB, dayOf(now) - PRODUCT_STATS_DAYS),
  };
  log("info", "retention.done", deleted);
  return deleted;
}
