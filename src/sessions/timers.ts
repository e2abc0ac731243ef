/**
 * Timers of behavioural triggers in a CustomerSession's SQLite storage. One row per pending
 * timer (trigger × item key); one Durable Object alarm, set to the earliest `fire_at`, serves
 * them all. Fired and dropped timers leave a row in `firings`: the customer's trigger history,
 * the frequency caps' memory, and the outbox of messages not yet handed to the delivery queue.
 * Both tables are WITHOUT ROWID: a text primary key on a rowid table is a second index, and
 * Durable Object storage bills every row written, index rows included.
 */
import type { StoredEvent } from "../model/events";
import { durationMs, type Trigger } from "../triggers/definition";
import type { DueTimer } from "../triggers/fire";
import { cancels, startKey } from "../triggers/match";
import { productOf, type Product } from "../model/products";

export const TIMER_TABLES = `
CREATE TABLE IF NOT EXISTS timers (
  id TEXT PRIMARY KEY,
  trigger_id TEXT NOT NULL,
  trigger_version INTEGER NOT NULL,
  item_key TEXT NOT NULL,
  start_message_id TEXT NOT NULL,
  start_event TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  fire_at INTEGER NOT NULL,
  items TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS firings (
  id TEXT PRIMARY KEY,
  trigger_id TEXT NOT NULL,
  timer_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT,
  message TEXT
) WITHOUT ROWID;`;

/** A stored timer: what the firing decision reads (triggers/fire.ts), and which version and item started it. */
export interface TimerRow extends DueTimer, Record<string, SqlStorageValue> {
  trigger_version: number;
  item_key: string;
}

export interface FiringRow extends Record<string, SqlStorageValue> {
  id: string;
  trigger_id: string;
  timer_id: string;
  at: number;
  /** `sending` (in the outbox), `sent`, or why it was dropped: `capped`, `too_late`, `expired`, `conditions_not_met`, `trigger_disabled`, `customer_gone`. */
  outcome: string;
  reason: string | null;
  message: string | null;
}

export const timerId = (triggerId: string, itemKey: string) => `${triggerId}|${itemKey}`;

/** The products an event is about: its `products[]`, or the product it describes. */
export function itemsOf(e: StoredEvent): Product[] {
  const listed = Array.isArray(e.properties?.products) ? (e.properties.products as Record<string, unknown>[]).map(productOf).filter((p): p is Product => p !== null) : [];
  if (listed.length > 0) return listed;
  const own = productOf(e.properties);
  return own ? [own] : [];
}

export type TimerChange = { kind: "cancel"; triggerId: string; keys: "all" | Set<string>; before: number } | { kind: "start"; row: TimerRow; onRepeat: "restart" | "keep" };

/**
 * What a run of events (sorted by time) does to timers: cancellations, then starts, in event
 * order. A start whose due time is already further past than the trigger tolerates (an imported
 * history) creates nothing.
 */
export function planTimers(events: readonly StoredEvent[], triggers: readonly Trigger[], now: number): TimerChange[] {
  const changes: TimerChange[] = [];
  for (const e of events) {
    const at = Date.parse(e.timestamp);
    for (const t of triggers) {
      const cancelled = cancels(t, e);
      if (cancelled) changes.push({ kind: "cancel", triggerId: t.id, keys: cancelled, before: at });
      const key = startKey(t, e);
      if (key === null) continue;
      const def = t.definition;
      if (def.expiry.until && Date.parse(def.expiry.until) < now) continue;
      const dueAt = at + durationMs(def.wait);
      if (now - dueAt > def.expiry.maxLateHours * 3_600_000) continue;
      changes.push({
        kind: "start",
        onRepeat: def.onRepeat,
        row: { id: timerId(t.id, key), trigger_id: t.id, trigger_version: t.version, item_key: key, start_message_id: e.messageId, start_event: e.event ?? e.type, started_at: at, due_at: dueAt, fire_at: dueAt, items: JSON.stringify(itemsOf(e)) },
      });
    }
  }
  return changes;
}

/** Applies planned changes to the timers table. Returns how many timers were created/changed/removed. */
export function applyTimerChanges(sql: SqlStorage, changes: readonly TimerChange[]): number {
  let touched = 0;
  for (const c of changes) {
    if (c.kind === "cancel") {
      // Only timers started before the cancelling event: a purchase does not cancel a later view.
      if (c.keys === "all") touched += sql.exec("DELETE FROM timers WHERE trigger_id = ? AND started_at <= ?", c.triggerId, c.before).rowsWritten;
      else for (const key of c.keys) touched += sql.exec("DELETE FROM timers WHERE id = ? AND started_at <= ?", timerId(c.triggerId, key), c.before).rowsWritten;
      continue;
    }
    const r = c.row;
    const held = sql.exec<TimerRow>("SELECT started_at FROM timers WHERE id = ?", r.id).toArray()[0];
    if (held && (c.onRepeat === "keep" || held.started_at >= r.started_at)) continue;
    touched += sql.exec(
      `INSERT INTO timers (id, trigger_id, trigger_version, item_key, start_message_id, start_event, started_at, due_at, fire_at, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET trigger_version = excluded.trigger_version, start_message_id = excluded.start_message_id, start_event = excluded.start_event,
         started_at = excluded.started_at, due_at = excluded.due_at, fire_at = excluded.fire_at, items = excluded.items`,
      r.id, r.trigger_id, r.trigger_version, r.item_key, r.start_message_id, r.start_event, r.started_at, r.due_at, r.fire_at, r.items,
    ).rowsWritten;
  }
  return touched;
}

export const earliestTimer = (sql: SqlStorage): number | null => (sql.exec<{ at: number | null }>("SELECT MIN(fire_at) AS at FROM timers").one().at ?? null);
