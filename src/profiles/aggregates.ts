/**
 * Aggregates of a customer's events that segment rules and custom computed traits ask about
 * ("performed Order Completed with total > 100 at least twice within 30 days", "sum of revenue of
 * orders in the last 90 days", "most frequent category viewed"), kept in the profile and updated
 * incrementally by the pipeline: nothing is answered by rescanning a customer's events.
 *
 * Each distinct (kind, event, property filters, property, window) is one aggregate, named by a
 * hash of it with its kind and window readable in the name. A windowed aggregate keeps one cell
 * per UTC day for the days of its window before the newest one; one without a window keeps a
 * single cell. Cells combine by an operation that is commutative and associative (sums, minimums,
 * maximums, earliest/latest by time then id, the smallest distinct values), and pruning depends
 * only on the set of days, so the result depends on the set of events, not their order, and two
 * profiles' aggregates merge by combining them.
 *
 * A profile that lacks an aggregate (stored before the rule or trait existed) has it derived once
 * from all its stored events (pipeline/process.ts); until then it reads as unknown.
 */
import type { StoredEvent } from "../model/events";
import { compare, valueAt } from "../model/rules";
import type { PropertyFilter } from "../model/rules";
import { numberOf } from "../kernel/values";
import type { EventCondition } from "../model/rules";

const DAY_MS = 86_400_000;
const TOTAL = "all";
/** Distinct values kept per cell (most frequent, unique list and count): the smallest in sort order. */
export const MAX_DISTINCT = 200;

export const AGGREGATE_KINDS = ["count", "sum", "avg", "min", "max", "most_frequent", "first", "last", "unique_list", "unique_count"] as const;
export type AggregateKind = (typeof AGGREGATE_KINDS)[number];

export interface AggregateSpec {
  key: string;
  kind: AggregateKind;
  event: string;
  where: PropertyFilter[];
  /** The property aggregated (all kinds but `count`). */
  property: string | null;
  withinDays: number | null;
}

type Primitive = string | number | boolean;
/** count: n; sum/avg: [sum, n]; min/max: v; most_frequent: value → n; first/last: [time, messageId, value]; unique_*: sorted values. */
type Cell = number | [number, number] | Record<string, number> | [number, string, Primitive] | Primitive[];

/** Aggregate key → bucket (UTC day, or `all` without a window) → cell. */
export type Aggregates = Record<string, Record<string, Cell>>;

/** Two 32-bit FNV-1a hashes with different offsets: a short stable name for a spec (not a security boundary). */
function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return (a >>> 0).toString(36) + (b >>> 0).toString(36);
}

export function aggregateSpec(input: { kind: AggregateKind; event: string; where?: readonly PropertyFilter[]; property?: string | null; withinDays?: number | null }): AggregateSpec {
  const where = (input.where ?? []).map((f) => ({ property: f.property, op: f.op, value: f.value }));
  const property = input.kind === "count" ? null : (input.property ?? null);
  const withinDays = input.withinDays ?? null;
  // Kind and window are readable from the key, so stored aggregates can be pruned and merged alone.
  return { key: `${input.kind}:${hash(JSON.stringify([input.event, where, property]))}:${withinDays ?? TOTAL}`, kind: input.kind, event: input.event, where, property, withinDays };
}

/** The distinct specs among many. */
export function distinctSpecs(specs: readonly AggregateSpec[]): AggregateSpec[] {
  return [...new Map(specs.map((s) => [s.key, s])).values()];
}

// Keys are `<kind>:<hash>:<window days or "all">`.
const kindOf = (key: string) => key.slice(0, key.indexOf(":")) as AggregateKind;
const windowOf = (key: string) => Number(key.slice(key.lastIndexOf(":") + 1));

const matches = (spec: AggregateSpec, e: StoredEvent) => e.type === "track" && e.event === spec.event && spec.where.every((f) => compare(valueAt(e.properties, f.property), f.op, f.value));

const primitive = (v: unknown): Primitive | undefined => (typeof v === "string" ? (v.trim() === "" ? undefined : v.slice(0, 200)) : typeof v === "number" && Number.isFinite(v) ? v : typeof v === "boolean" ? v : undefined);
const sortKey = (v: Primitive) => `${typeof v}:${String(v)}`;
const smallest = (values: Iterable<Primitive>) => [...new Map([...values].map((v) => [sortKey(v), v])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_DISTINCT).map(([, v]) => v);
const earlier = (a: [number, string, Primitive], b: [number, string, Primitive]) => (a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b);

/** The cell one event makes, or undefined when the event has nothing to add (no such property). */
function cellOf(kind: AggregateKind, e: StoredEvent, property: string | null, at: number): Cell | undefined {
  if (kind === "count") return 1;
  const raw = valueAt(e.properties, property ?? "");
  switch (kind) {
    case "sum":
    case "avg":
    case "min":
    case "max": {
      const n = numberOf(raw);
      if (n === undefined) return undefined;
      return kind === "sum" || kind === "avg" ? [n, 1] : n;
    }
    case "most_frequent": {
      const v = primitive(raw);
      return v === undefined ? undefined : { [sortKey(v)]: 1 };
    }
    case "first":
    case "last": {
      const v = primitive(raw);
      return v === undefined ? undefined : [at, e.messageId, v];
    }
    case "unique_list":
    case "unique_count": {
      const values = (Array.isArray(raw) ? raw : [raw]).map(primitive).filter((v): v is Primitive => v !== undefined);
      return values.length === 0 ? undefined : smallest(values);
    }
  }
}

/** Two cells of one kind as one (commutative and associative). */
function combineCells(kind: AggregateKind, a: Cell | undefined, b: Cell | undefined): Cell | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  switch (kind) {
    case "count":
      return (a as number) + (b as number);
    case "sum":
    case "avg":
      return [(a as [number, number])[0] + (b as [number, number])[0], (a as [number, number])[1] + (b as [number, number])[1]];
    case "min":
      return Math.min(a as number, b as number);
    case "max":
      return Math.max(a as number, b as number);
    case "most_frequent": {
      const out = { ...(a as Record<string, number>) };
      for (const [k, n] of Object.entries(b as Record<string, number>)) out[k] = (out[k] ?? 0) + n;
      // The smallest values in sort order are kept: a function of the set, whatever the order.
      const keys = Object.keys(out).sort().slice(0, MAX_DISTINCT);
      return Object.fromEntries(keys.map((k) => [k, out[k]!]));
    }
    case "first": {
      const [x, y] = [a as [number, string, Primitive], b as [number, string, Primitive]];
      return earlier(x, y);
    }
    case "last": {
      const [x, y] = [a as [number, string, Primitive], b as [number, string, Primitive]];
      return earlier(x, y) === x ? y : x;
    }
    case "unique_list":
    case "unique_count":
      return smallest([...(a as Primitive[]), ...(b as Primitive[])]);
  }
}

function prune(key: string, buckets: Record<string, Cell>): Record<string, Cell> {
  const withinDays = windowOf(key);
  if (!Number.isFinite(withinDays)) return buckets;
  const days = Object.keys(buckets);
  if (days.length === 0) return buckets;
  const newest = Math.max(...days.map(Number));
  for (const d of days) if (Number(d) < newest - withinDays) delete buckets[d];
  return buckets;
}

/**
 * `aggregates` with `events` added for every spec. Specs the profile lacks are started only when
 * `complete` says the events are all the customer has (a new profile, or a derivation from the
 * full history); otherwise they stay missing, to be derived. Aggregates of specs no longer in use
 * are dropped. `aggregates` is not modified.
 */
export function applyAggregates(aggregates: Aggregates, specs: readonly AggregateSpec[], events: readonly StoredEvent[], complete: boolean): Aggregates {
  const next: Aggregates = {};
  // Most specs are about events the batch does not have: those keep what they hold, untouched.
  const names = new Set<string>();
  for (const e of events) if (e.type === "track" && e.event) names.add(e.event);
  for (const spec of specs) {
    const held = aggregates[spec.key];
    if (!held && !complete) continue;
    if (held && !names.has(spec.event)) {
      next[spec.key] = held;
      continue;
    }
    const buckets = { ...held };
    for (const e of events) {
      if (!matches(spec, e)) continue;
      const at = Date.parse(e.timestamp);
      if (!Number.isFinite(at)) continue;
      const cell = cellOf(spec.kind, e, spec.property, at);
      if (cell === undefined) continue;
      const bucket = spec.withinDays === null ? TOTAL : String(Math.floor(at / DAY_MS));
      buckets[bucket] = combineCells(spec.kind, buckets[bucket], cell)!;
    }
    next[spec.key] = prune(spec.key, buckets);
  }
  return next;
}

/**
 * Two profiles' aggregates as one. An aggregate only one side has stays missing (to be derived
 * from all the events), unless the other side is known to have no events at all.
 */
export function mergeAggregates(a: Aggregates, aEmpty: boolean, b: Aggregates, bEmpty: boolean): Aggregates {
  const out: Aggregates = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const [x, y] = [a[key] ?? (aEmpty ? {} : undefined), b[key] ?? (bEmpty ? {} : undefined)];
    if (!x || !y) continue;
    const kind = kindOf(key);
    const merged: Record<string, Cell> = { ...x };
    for (const [bucket, cell] of Object.entries(y)) merged[bucket] = combineCells(kind, merged[bucket], cell)!;
    out[key] = prune(key, merged);
  }
  return out;
}

export const missingSpecs = (aggregates: Aggregates | undefined, specs: readonly AggregateSpec[]) => specs.filter((s) => !aggregates?.[s.key]);

/**
 * The aggregate's value at `now`, over its window: a number, a value, a list, or null when no
 * event counted; undefined when the profile does not have the aggregate yet.
 */
export function aggregateValue(aggregates: Aggregates | undefined, spec: AggregateSpec, now: number): unknown {
  const buckets = aggregates?.[spec.key];
  if (!buckets) return undefined;
  const from = spec.withinDays === null ? -Infinity : Math.floor(now / DAY_MS) - spec.withinDays;
  let cell: Cell | undefined;
  for (const [bucket, c] of Object.entries(buckets)) if (bucket === TOTAL || Number(bucket) >= from) cell = combineCells(spec.kind, cell, c);
  switch (spec.kind) {
    case "count":
      return (cell as number | undefined) ?? 0;
    case "sum":
      return cell ? (cell as [number, number])[0] : 0;
    case "avg":
      return cell ? (cell as [number, number])[0] / (cell as [number, number])[1] : null;
    case "min":
    case "max":
      return cell ?? null;
    case "most_frequent": {
      if (!cell) return null;
      let best: [string, number] | null = null;
      for (const [k, n] of Object.entries(cell as Record<string, number>)) if (!best || n > best[1] || (n === best[1] && k < best[0])) best = [k, n];
      return best ? decodeSortKey(best[0]) : null;
    }
    case "first":
    case "last":
      return cell ? (cell as [number, string, Primitive])[2] : null;
    case "unique_list":
      return (cell as Primitive[] | undefined) ?? [];
    case "unique_count":
      return ((cell as Primitive[] | undefined) ?? []).length;
  }
}

function decodeSortKey(k: string): Primitive {
  const i = k.indexOf(":");
  const [type, text] = [k.slice(0, i), k.slice(i + 1)];
  return type === "number" ? Number(text) : type === "boolean" ? text === "true" : text;
}

/** How many matching events fall in a count aggregate's window at `now` (undefined: not known yet). */
export const countAt = (aggregates: Aggregates | undefined, spec: AggregateSpec, now: number) => aggregateValue(aggregates, spec, now) as number | undefined;

const countSpecs = new WeakMap<EventCondition, AggregateSpec>();

/** The count an event condition of a segment rule reads (computed once per condition object: rules are evaluated for every customer). */
export function countSpec(c: EventCondition): AggregateSpec {
  let spec = countSpecs.get(c);
  if (!spec) {
    spec = aggregateSpec({ kind: "count", event: c.event, where: c.where, withinDays: c.withinDays ?? null });
    countSpecs.set(c, spec);
  }
  return spec;
}
