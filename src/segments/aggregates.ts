/**
 * Event counts that segment rules ask about ("performed Order Completed with total > 100 at
 * least twice within 30 days"), kept in the profile and updated incrementally by the pipeline:
 * a rule is never answered by rescanning a customer's events.
 *
 * Each distinct (event, property filters, window) is one aggregate, named by a hash of it. A
 * windowed aggregate counts per UTC day and keeps the days of its window before the newest one;
 * an aggregate without a window keeps one total. Counts add up, and pruning depends only on the
 * set of days, so the result depends on the set of events, not their order, and two profiles'
 * aggregates merge by adding them.
 *
 * A profile that lacks an aggregate (stored before the rule existed) has it derived once from
 * all its stored events (pipeline/process.ts); until then rules on it read nothing.
 */
import type { StoredEvent } from "../events/types";
import { compare, valueAt } from "../triggers/match";
import { addCounts } from "../values";
import type { EventCondition } from "./definition";

const DAY_MS = 86_400_000;
const TOTAL = "all";

export interface AggregateSpec {
  key: string;
  event: string;
  where: EventCondition["where"];
  withinDays: number | null;
}

/** Aggregate key → UTC day (days since 1970) → count, or `{ all: count }` without a window. */
export type Aggregates = Record<string, Record<string, number>>;

/** FNV-1a, 52 bits: a short stable name for a spec (not a security boundary). */
function hash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  return (h & 0xfffffffffffffn).toString(36);
}

export function specOf(c: EventCondition): AggregateSpec {
  const withinDays = c.withinDays ?? null;
  const where = c.where.map((f) => ({ property: f.property, op: f.op, value: f.value }));
  // The window is readable from the key, so stored aggregates can be pruned and merged alone.
  return { key: `e_${hash(JSON.stringify([c.event, where]))}_${withinDays ?? TOTAL}`, event: c.event, where, withinDays };
}

/** The distinct specs of many conditions. */
export function specsOf(conditions: readonly EventCondition[]): AggregateSpec[] {
  const byKey = new Map<string, AggregateSpec>();
  for (const c of conditions) {
    const spec = specOf(c);
    byKey.set(spec.key, spec);
  }
  return [...byKey.values()];
}

const matches = (spec: AggregateSpec, e: StoredEvent) => e.type === "track" && e.event === spec.event && spec.where.every((f) => compare(valueAt(e.properties, f.property), f.op, f.value));

const windowOf = (key: string) => Number(key.slice(key.lastIndexOf("_") + 1));

function prune(key: string, days: Record<string, number>): Record<string, number> {
  const withinDays = windowOf(key);
  if (!Number.isFinite(withinDays)) return days;
  const keys = Object.keys(days);
  if (keys.length === 0) return days;
  const newest = Math.max(...keys.map(Number));
  for (const k of keys) if (Number(k) < newest - withinDays) delete days[k];
  return days;
}

/**
 * `aggregates` with `events` counted for every spec. Specs the profile lacks are started only
 * when `complete` says the events are all the customer has (a new profile, or a derivation from
 * the full history); otherwise they stay missing, to be derived. Aggregates of specs no longer
 * in use are dropped. `aggregates` is not modified.
 */
export function applyAggregates(aggregates: Aggregates, specs: readonly AggregateSpec[], events: readonly StoredEvent[], complete: boolean): Aggregates {
  const next: Aggregates = {};
  for (const spec of specs) {
    const held = aggregates[spec.key];
    if (!held && !complete) continue;
    const days = { ...held };
    for (const e of events) {
      if (!matches(spec, e)) continue;
      const at = Date.parse(e.timestamp);
      if (!Number.isFinite(at)) continue;
      const bucket = spec.withinDays === null ? TOTAL : String(Math.floor(at / DAY_MS));
      days[bucket] = (days[bucket] ?? 0) + 1;
    }
    next[spec.key] = prune(spec.key, days);
  }
  return next;
}

/**
 * Two profiles' aggregates as one: counts add. An aggregate only one side has stays missing (to
 * be derived from all the events), unless the other side is known to have no events at all.
 */
export function mergeAggregates(a: Aggregates, aEmpty: boolean, b: Aggregates, bEmpty: boolean): Aggregates {
  const out: Aggregates = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [x, y] = [a[key] ?? (aEmpty ? {} : undefined), b[key] ?? (bEmpty ? {} : undefined)];
    if (x && y) out[key] = prune(key, addCounts(x, y));
  }
  return out;
}

export const missingSpecs = (aggregates: Aggregates | undefined, specs: readonly AggregateSpec[]) => specs.filter((s) => !aggregates?.[s.key]);

/** How many matching events fall in the spec's window at `now` (undefined: not known yet). */
export function countAt(aggregates: Aggregates | undefined, spec: AggregateSpec, now: number): number | undefined {
  const days = aggregates?.[spec.key];
  if (!days) return undefined;
  if (spec.withinDays === null) return days[TOTAL] ?? 0;
  const from = Math.floor(now / DAY_MS) - spec.withinDays;
  let n = 0;
  for (const [day, count] of Object.entries(days)) if (Number(day) >= from) n += count;
  return n;
}
