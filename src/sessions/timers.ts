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

/**
 * Applies planned changes to the timers table, coalesced: the changes of one call are played in
 * memory over the stored timers they touch, and each timer is written at most once at the end.
 * A timer restarted by every event of a batch (win-back restarts on any event) costs one row,
 * not one per event; one started and cancelled within the batch costs none. Durable Object
 * storage bills each row written. Returns the rows written.
 */
export function applyTimerChanges(sql: SqlStorage, changes: readonly TimerChange[]): number {
  /** started_at of the stored timers read so far (null: not stored). */
  const stored = new Map<string, number | null>();
  /** What each touched timer becomes: a row to write, or null to delete. */
  const next = new Map<string, TimerRow | null>();
  const storedAt = (id: string): number | null => {
    if (!stored.has(id)) stored.set(id, sql.exec<{ started_at: number }>("SELECT started_at FROM timers WHERE id = ?", id).toArray()[0]?.started_at ?? null);
    return stored.get(id)!;
  };
  const current = (id: string): number | null => (next.has(id) ? (next.get(id)?.started_at ?? null) : storedAt(id));
  /** Triggers whose stored timers have all been read into `stored` (once per call, however many cancels). */
  const listed = new Set<string>();
  for (const c of changes) {
    if (c.kind === "start") {
      const held = current(c.row.id);
      if (held === null || (c.onRepeat === "restart" && held < c.row.started_at)) next.set(c.row.id, c.row);
      continue;
    }
    // Only timers started before the cancelling event: a purchase does not cancel a later view.
    if (c.keys === "all" && !listed.has(c.triggerId)) {
      for (const r of sql.exec<{ id: string; started_at: number }>("SELECT id, started_at FROM timers WHERE trigger_id = ?", c.triggerId)) if (!stored.has(r.id)) stored.set(r.id, r.started_at);
      listed.add(c.triggerId);
    }
    const ids = c.keys === "all" ? [...new Set([...stored.keys(), ...next.keys()])].filter((id) => id.startsWith(`${c.triggerId}|`)) : [...c.keys].map((key) => timerId(c.triggerId, key));
    for (const id of ids) {
      const held = current(id);
      if (held !== null && held <= c.before) next.set(id, null);
    }
  }
  let written = 0;
  for (const [id, row] of next) {
    if (row === null) {
      if (storedAt(id) !== null) written += sql.exec("DELETE FROM timers WHERE id = ?", id).rowsWritten;
      continue;
    }
    written += sql.exec(
      `INSERT INTO timers (id, trigger_id, trigger_version, item_key, start_message_id, start_event, started_at, due_at, fire_at, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET trigger_version = excluded.trigger_version, start_message_id = excluded.start_message_id, start_event = excluded.start_event,
         started_at = excluded.started_at, due_at = excluded.due_at, fire_at = excluded.fire_at, items = excluded.items`,
      row.id, row.trigger_id, row.trigger_version, row.item_key, row.start_message_id, row.start_event, row.started_at, row.due_at, row.fire_at, row.items,
    ).rowsWritten;
  }
  return written;
}

export const earliestTimer = (sql: SqlStorage): number | null => (sql.exec<{ at: number | null }>("SELECT MIN(fire_at) AS at FROM timers").one().at ?? null);
