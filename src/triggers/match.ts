/**
 * Which events start or cancel a trigger's timers, and the item key they carry. Pure: takes
 * events and definitions, returns decisions; the Durable Object applies them to its timers.
 */
import type { StoredEvent } from "../model/events";
import { compare, valueAt } from "../model/rules";
import { ANY_EVENT, startEvents, type Trigger } from "./definition";

const isTrackOf = (e: StoredEvent, name: string) => e.type === "track" && e.event === name;

/** The item key of an event as a string (`"sku-1"`), or null when it has none. */
export function keyOf(e: StoredEvent, key: string | undefined): string | null {
  if (!key) return "";
  const v = valueAt(e.properties, key);
  return typeof v === "string" || typeof v === "number" ? String(v) : null;
}

/** Every item key an event is about: its own, and those of its `products[]` (an order, a cart). */
export function keysIn(e: StoredEvent, key: string): Set<string> {
  const keys = new Set<string>();
  const own = keyOf(e, key);
  if (own) keys.add(own);
  const products = e.properties?.products;
  if (Array.isArray(products)) {
    for (const p of products) {
      const v = valueAt(p, key);
      if (typeof v === "string" || typeof v === "number") keys.add(String(v));
    }
  }
  return keys;
}

/** Does this event start a timer of the trigger? Returns its key ("" without one) or null. */
export function startKey(trigger: Trigger, e: StoredEvent): string | null {
  const { start, key } = trigger.definition;
  if (!startEvents(trigger.definition).some((name) => name === ANY_EVENT || isTrackOf(e, name))) return null;
  if (!start.where.every((f) => compare(valueAt(e.properties, f.property), f.op, f.value))) return null;
  return keyOf(e, key);
}

/**
 * Which of a trigger's pending keys this event cancels: all of them, those it is about, or none.
 * `*` as a cancelling event means any activity.
 */
export function cancels(trigger: Trigger, e: StoredEvent): "all" | Set<string> | null {
  const cancel = trigger.definition.cancel;
  if (!cancel?.events.some((name) => name === ANY_EVENT || isTrackOf(e, name))) return null;
  if (!cancel.sameKey || !trigger.definition.key) return "all";
  return keysIn(e, trigger.definition.key);
}

/** Is the trigger interested in this event at all (so the pipeline sends it the definition)? */
export function concerns(trigger: Trigger, e: StoredEvent): boolean {
  return startKey(trigger, e) !== null || cancels(trigger, e) !== null;
}
