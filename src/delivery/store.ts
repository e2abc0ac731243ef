/**
 * The delivery log in D1: one row per delivery id, upserted after each attempt. It is what makes
 * deliveries idempotent (a delivered id is never posted again) and what the admin API lists.
 */
import { and, desc, eq, lt, sql, type SQL } from "drizzle-orm";
import { database } from "../db/client";
import { deliveries } from "../db/schema";
import type { DeliveryMessage } from "../triggers/delivery-message";
import { isoOrNull } from "../kernel/time";

export type DeliveryStatus = (typeof deliveries.$inferSelect)["status"];
export type DeliveryRow = typeof deliveries.$inferSelect;

/** Statuses after which a delivery is never attempted again (unless an admin replays it). */
export const FINAL_STATUSES: readonly DeliveryStatus[] = ["delivered", "rejected", "dead"];

export async function deliveryStatus(d1: D1Database, id: string): Promise<DeliveryStatus | null> {
  const db = database(d1);
  const row = await db.select({ status: deliveries.status }).from(deliveries).where(eq(deliveries.id, id)).get();
  return row?.status ?? null;
}

export interface AttemptRecord {
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  /** Added to the row's attempt count (0 when nothing was posted). */
  attempts: number;
}

/** Upserts the delivery's row; returns the D1 rows written (billed). */
export async function recordAttempt(d1: D1Database, m: DeliveryMessage, r: AttemptRecord, now = Date.now()): Promise<number> {
  const db = database(d1);
  const deliveredAt = r.status === "delivered" ? now : null;
  const result = await db
    .insert(deliveries)
    .values({
      id: m.deliveryId,
      triggerId: m.payload.trigger.id,
      triggerVersion: m.payload.trigger.version,
      customerId: m.customerId,
      url: m.destination.url,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.statusCode,
      lastError: r.error,
      message: JSON.stringify(m),
      firedAt: Date.parse(m.payload.firedAt),
      updatedAt: now,
      deliveredAt,
    })
    .onConflictDoUpdate({
      target: deliveries.id,
      // A delivery declared dead keeps the error and status of its last attempt.
      set: r.status === "dead" ? { status: r.status, updatedAt: now } : { status: r.status, attempts: sqlAdd(r.attempts), lastStatusCode: r.statusCode, lastError: r.error, updatedAt: now, deliveredAt },
    })
    .run();
  return result.meta.rows_written ?? 0;
}

const sqlAdd = (n: number) => sql`${deliveries.attempts} + ${n}`;

export interface DeliveryQuery {
  triggerId?: string;
  customerId?: string;
  status?: DeliveryStatus;
  limit: number;
  /** Entries fired before this time (ms): the paging cursor. */
  before?: number;
}

export async function listDeliveries(d1: D1Database, q: DeliveryQuery) {
  const db = database(d1);
  const where: SQL[] = [];
  if (q.triggerId) where.push(eq(deliveries.triggerId, q.triggerId));
  if (q.customerId) where.push(eq(deliveries.customerId, q.customerId));
  if (q.status) where.push(eq(deliveries.status, q.status));
  if (q.before) where.push(lt(deliveries.firedAt, q.before));
  const rows = await db.select().from(deliveries).where(and(...where)).orderBy(desc(deliveries.firedAt)).limit(q.limit).all();
  return rows.map(view);
}

export async function getDelivery(d1: D1Database, id: string) {
  const db = database(d1);
  const row = await db.select().from(deliveries).where(eq(deliveries.id, id)).get();
  return row ? { ...view(row), message: JSON.parse(row.message) as DeliveryMessage } : null;
}


function view(r: DeliveryRow) {
  return {
    id: r.id,
    triggerId: r.triggerId,
    triggerVersion: r.triggerVersion,
    customerId: r.customerId,
    url: r.url,
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.lastStatusCode,
    lastError: r.lastError,
    firedAt: isoOrNull(r.firedAt)!,
    updatedAt: isoOrNull(r.updatedAt)!,
    deliveredAt: isoOrNull(r.deliveredAt),
  };
}

/** Puts a delivery back on the queue (after it died or was rejected and the cause is fixed). */
export async function replayDelivery(env: Env, id: string, now = Date.now()): Promise<"replayed" | "delivered" | null> {
  const db = database(env.DB);
  const row = await db.select().from(deliveries).where(eq(deliveries.id, id)).get();
  if (!row) return null;
  if (row.status === "delivered") return "delivered";
  // Queued first: the consumer skips deliveries in a final status.
  await db.update(deliveries).set({ status: "queued", updatedAt: now }).where(eq(deliveries.id, id));
  await env.DELIVERIES.send(JSON.parse(row.message) as DeliveryMessage);
  return "replayed";
}
