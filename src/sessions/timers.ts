/**
 * Timers of behavioural triggers in a CustomerSession. The pending timers (trigger × item key)
 * live in the object's one state row, with the session: a call that restarts, starts or cancels
 * any number of them writes that one row (Durable Object storage bills each row written, and a
 * batch used to write a row per timer it touched: about seven per call in the shipped
 * configuration). One alarm, set to the earliest `fire_at`, serves them all. Fired and dropped
 * timers leave a row in `firings`: the customer's trigger history, the frequency caps' memory,
 * and the outbox of messages not yet handed to the delivery queue (WITHOUT ROWID: a text primary
 * key on a rowid table is a second index, billed as a second row).
 */
import type { StoredEvent } from "../model/events";
import { durationMs, type Trigger } from "../triggers/definition";
import type { DueTimer } from "../triggers/fire";
import { cancels, startKey } from "../triggers/match";
import { productOf, type Product } from "../model/products";

export const FIRINGS_TABLE = `
CREATE TABLE IF NOT EXISTS firings (
  id TEXT PRIMARY KEY,
  trigger_id TEXT NOT NULL,
  timer_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT,
  message TEXT
) WITHOUT ROWID;`;

/** Pending timers by id (`timerId`), as the state row holds them. */
export type Timers = Record<string, TimerRow>;

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
  /**
   * `sending` (in the outbox), `sent`, `held` (the customer is in the trigger's holdout), `recording`
   * / `recorded` (the `<delivery id>:record` row of a firing's record for the profile), or why it was dropped: `capped`, `too_late`, `expired`, `conditions_not_met`, `trigger_disabled`, `customer_gone`. */
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
 * Applies planned changes to the pending timers, in order; returns how many timers changed. A
 * timer restarted by every event of a batch (win-back restarts on any event) keeps the latest
 * start; one started and cancelled within the batch is not there after. Pure: the caller saves.
 */
export function applyTimerChanges(timers: Timers, changes: readonly TimerChange[]): number {
  const touched = new Set<string>();
  for (const c of changes) {
    if (c.kind === "start") {
      const held = timers[c.row.id];
      if (!held || (c.onRepeat === "restart" && held.started_at < c.row.started_at)) {
        timers[c.row.id] = c.row;
        touched.add(c.row.id);
      }
      continue;
    }
    // Only timers started before the cancelling event: a purchase does not cancel a later view.
    const ids = c.keys === "all" ? Object.keys(timers).filter((id) => timers[id]!.trigger_id === c.triggerId) : [...c.keys].map((key) => timerId(c.triggerId, key));
    for (const id of ids) {
      const held = timers[id];
      if (held && held.started_at <= c.before) {
        delete timers[id];
        touched.add(id);
      }
    }
  }
  return touched.size;
}

/** When the earliest pending timer is due (fire_at), or null with none. */
export const earliestTimer = (timers: Timers): number | null => Object.values(timers).reduce<number | null>((at, t) => (at === null ? t.fire_at : Math.min(at, t.fire_at)), null);

/** Pending timers due at `now`, earliest first, at most `limit`. */
export const dueTimers = (timers: Timers, now: number, limit: number): TimerRow[] =>
  Object.values(timers)
    .filter((t) => t.fire_at <= now)
    .sort((a, b) => a.fire_at - b.fire_at)
    .slice(0, limit);
