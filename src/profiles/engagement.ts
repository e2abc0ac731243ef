/**
 * Email engagement on the profile and what it adds to the reports (issue 25, docs/engagement.md,
 * "Attribution and reports"). Pure: the profile's engagement state and a batch's events in, the
 * new state and the report counts the batch adds out. The counts commit with the profile (in its
 * shard, in the same transaction as its watermark), so a retried batch never counts twice and a
 * report is a sum of small daily rows, never a scan of events.
 *
 * - Each message a customer received is a *mark*, keyed by Rapport's delivery id, else the ESP's
 *   message id, else the block and the day: the first human open makes a unique open, the first
 *   click a unique click; an ESP event that names only the message inherits the trigger, block and
 *   variant an earlier event of the message named.
 * - Opens and clicks are classified (content/requesters.ts at the edge, ESPs' own flags); a click
 *   within a second of the message's delivery is a scanner's. Only people's opens and clicks are
 *   *touches*.
 * - A conversion (`Order Completed` by default) is credited to the last human touch before it
 *   within its window (a click's, else an open's: five days each by default), once: to the
 *   touch's trigger, block and variant, on the conversion's day.
 * - A trigger with a holdout (triggers/definition.ts `holdoutPercent`) records each firing as an
 *   internal `Trigger Fired` event naming the arm: conversions within the attribution window after
 *   it count for its arm, so the report compares those who got the message with those held out.
 */
import type { StoredEvent } from "../model/events";
import { isInternalSource } from "../model/events";
import { orderRevenue } from "./computed";

export const OPENED = "Email Opened";
export const CLICKED = "Email Link Clicked";
export const DELIVERED = "Email Delivered";
/** Rapport's own record of a firing of a trigger with a holdout: `{ trigger_id, delivery_id, holdout }`. */
export const TRIGGER_FIRED = "Trigger Fired";
const UNSUBSCRIBED = new Set(["Unsubscribed", "Email Unsubscribed"]);
const COMPLAINED = new Set(["Email Marked as Spam", "Spam Reported"]);

/** A click this soon after its message was delivered is a link scanner's (a person cannot read that fast). */
export const SCANNER_CLICK_MS = 1_000;

export interface Attribution {
  /** The events that count as conversions. */
  conversionEvents: readonly string[];
  clickWindowMs: number;
  openWindowMs: number;
}

const DAY_MS = 86_400_000;
export const DEFAULT_ATTRIBUTION: Attribution = { conversionEvents: ["Order Completed"], clickWindowMs: 5 * DAY_MS, openWindowMs: 5 * DAY_MS };

/** What a message is about: the ids report rows are kept by. */
export interface Source {
  trigger?: string;
  block?: string;
  /** `experiment:variant`. */
  variant?: string;
  delivery?: string;
}

/** A message the customer received, and what was counted for it. */
interface Mark {
  k: string;
  at: number;
  s: Source;
  /** Delivered at (ms), from the ESP's `Email Delivered`. */
  d?: number;
  /** Counted: reached (any open or click), a human open, a click. */
  r?: 1;
  o?: 1;
  c?: 1;
}

export interface Touch {
  at: number;
  kind: "open" | "click";
  k: string;
  s: Source;
}

/** A firing of a trigger with a holdout: the arm, and the first conversion and revenue within the window. */
interface Assignment {
  t: string;
  d: string;
  held: boolean;
  at: number;
  day: number;
  conv: boolean;
  rev: number;
}

/** A conversion and the touch it was credited to (the newest few, shown on the profile). */
export interface Credit {
  msg: string;
  at: number;
  revenue: number;
  touch: Touch["kind"];
  source: Source;
}

export interface EngagementState {
  marks: Mark[];
  touches: Touch[];
  assignments: Assignment[];
  credits: Credit[];
}

export const METRICS = [
  "delivered",
  "reached",
  "opens",
  "uniqueOpens",
  "machineOpens",
  "clicks",
  "uniqueClicks",
  "scannerClicks",
  "conversions",
  "revenue",
  "unsubscribes",
  "complaints",
  "treated",
  "held",
  "treatedConversions",
  "heldConversions",
  "treatedRevenue",
  "heldRevenue",
  "treatedRevenueSq",
  "heldRevenueSq",
] as const;
export type Metric = (typeof METRICS)[number];
export type Dimension = "trigger" | "block" | "variant";

/** What a batch adds to one report row: a dimension's key on a day (days since 1970-01-01, UTC). */
export interface EngagementCount {
  dimension: Dimension;
  key: string;
  day: number;
  metrics: Partial<Record<Metric, number>>;
}

const KEEP = { marks: 100, touches: 20, assignments: 50, credits: 10 };
/** Marks and assignments older than this go (no window reaches back further). */
const KEPT_MS = 60 * DAY_MS;

export const emptyEngagement = (): EngagementState => ({ marks: [], touches: [], assignments: [], credits: [] });

/** Adds counts into a list keyed by dimension, key and day. */
export class Counts {
  private readonly rows = new Map<string, EngagementCount>();

  add(source: Source, at: number, metrics: Partial<Record<Metric, number>>): void {
    const day = Math.floor(at / DAY_MS);
    const keys: [Dimension, string | undefined][] = [
      ["trigger", source.trigger],
      ["block", source.block],
      ["variant", source.variant],
    ];
    for (const [dimension, key] of keys) {
      if (!key) continue;
      const id = `${dimension}\u0000${key}\u0000${day}`;
      const row = this.rows.get(id) ?? { dimension, key, day, metrics: {} };
      for (const [m, n] of Object.entries(metrics) as [Metric, number][]) row.metrics[m] = (row.metrics[m] ?? 0) + n;
      this.rows.set(id, row);
    }
  }

  get list(): EngagementCount[] {
    return [...this.rows.values()];
  }
}

type Props = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 200 ? v : undefined);

function sourceOf(p: Props): Source {
  const experiment = str(p.experiment_id);
  const variant = str(p.variation_id);
  const s: Source = {};
  const trigger = str(p.trigger_id);
  const block = str(p.block_id);
  const delivery = str(p.delivery_id);
  if (trigger) s.trigger = trigger;
  if (block) s.block = block;
  if (experiment && variant) s.variant = `${experiment}:${variant}`;
  if (delivery) s.delivery = delivery;
  return s;
}

/** The message an event is about, or null when it names none. */
function messageKey(p: Props, at: number): string | null {
  const id = str(p.delivery_id) ?? str(p.email_id);
  if (id) return id;
  const block = str(p.block_id);
  return block ? `${block}@${Math.floor(at / DAY_MS)}` : null;
}

/** How an open or click was classified: at the edge (`engagement_class`) or by the ESP's flags. */
export function engagementClass(p: Props): "human" | "machine_open" | "scanner" {
  const stated = p.engagement_class ?? p.classification;
  if (stated === "machine_open" || stated === "scanner") return stated;
  if (p.machine_open === true || p.apple_privacy_open === true) return "machine_open";
  if (p.bot === true || p.is_bot === true) return "scanner";
  return "human";
}

const merged = (a: Source, b: Source): Source => ({ ...a, ...b });

/**
 * `state` with `events` applied, and what they add to the reports; `state` is not modified. Events
 * are taken in time order (a delivery before the click it makes a scanner's).
 */
export function applyEngagement(state: EngagementState | undefined, events: readonly StoredEvent[], attribution: Attribution = DEFAULT_ATTRIBUTION): { state: EngagementState | undefined; counts: EngagementCount[] } {
  const relevant = events.filter((e) => e.type === "track" && e.event && isEngagement(e.event, attribution));
  if (relevant.length === 0) return { state, counts: [] };
  const s: EngagementState = state ? { marks: [...state.marks], touches: [...state.touches], assignments: state.assignments.map((a) => ({ ...a })), credits: [...state.credits] } : emptyEngagement();
  const counts = new Counts();
  // At the same instant (ESPs stamp whole seconds) a delivery comes first: a click stamped with it is a scanner's.
  const rank = (e: StoredEvent) => (e.event === DELIVERED ? 0 : 1);
  const sorted = [...relevant].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || rank(a) - rank(b) || (a.messageId < b.messageId ? -1 : 1));
  for (const e of sorted) applyOne(s, e, Date.parse(e.timestamp), attribution, counts);
  // An order with no email behind it leaves a profile without engagement as it was.
  const empty = s.marks.length + s.touches.length + s.assignments.length + s.credits.length === 0;
  return { state: empty && !state ? undefined : trimmed(s), counts: counts.list };
}

function isEngagement(name: string, a: Attribution): boolean {
  return name === OPENED || name === CLICKED || name === DELIVERED || name === TRIGGER_FIRED || UNSUBSCRIBED.has(name) || COMPLAINED.has(name) || a.conversionEvents.includes(name);
}

function applyOne(s: EngagementState, e: StoredEvent, at: number, a: Attribution, counts: Counts): void {
  const p = (e.properties ?? {}) as Props;
  const name = e.event!;
  if (name === TRIGGER_FIRED) {
    assign(s, e, p, at, counts);
    return;
  }
  const key = messageKey(p, at);
  const mark = key ? markOf(s, key, sourceOf(p), at) : null;
  if (name === DELIVERED) {
    if (mark && mark.d === undefined) {
      mark.d = at;
      counts.add(mark.s, at, { delivered: 1 });
    }
    return;
  }
  if (name === OPENED || name === CLICKED) {
    if (!mark) return;
    const click = name === CLICKED;
    let kind = engagementClass(p);
    if (click && kind === "human" && mark.d !== undefined && at - mark.d >= 0 && at - mark.d < SCANNER_CLICK_MS) kind = "scanner";
    if (kind === "scanner") {
      if (click) counts.add(mark.s, at, { scannerClicks: 1 });
      return;
    }
    const m: Partial<Record<Metric, number>> = {};
    if (!mark.r) {
      mark.r = 1;
      m.reached = 1;
    }
    if (kind === "machine_open") m.machineOpens = 1;
    else if (click) {
      m.clicks = 1;
      if (!mark.c) {
        mark.c = 1;
        m.uniqueClicks = 1;
      }
    } else {
      m.opens = 1;
      if (!mark.o) {
        mark.o = 1;
        m.uniqueOpens = 1;
      }
    }
    counts.add(mark.s, at, m);
    if (kind === "human") addTouch(s, { at, kind: click ? "click" : "open", k: mark.k, s: mark.s });
    return;
  }
  if (UNSUBSCRIBED.has(name) || COMPLAINED.has(name)) {
    const source = mark?.s ?? lastTouch(s, at, a)?.s;
    if (source) counts.add(source, at, UNSUBSCRIBED.has(name) ? { unsubscribes: 1 } : { complaints: 1 });
    // An unsubscribe can be a conversion too (a shop may count one); it goes on below.
    if (!a.conversionEvents.includes(name)) return;
  }
  if (a.conversionEvents.includes(name)) convert(s, e, p, at, a, counts);
}

/** The mark of a message, created on its first event; ids a later event names are added to it. */
function markOf(s: EngagementState, key: string, source: Source, at: number): Mark {
  const i = s.marks.findIndex((m) => m.k === key);
  if (i >= 0) {
    const held = s.marks[i]!;
    const next = { ...held, s: merged(held.s, source) };
    s.marks[i] = next;
    return next;
  }
  const mark: Mark = { k: key, at, s: source };
  s.marks.push(mark);
  return mark;
}

function addTouch(s: EngagementState, t: Touch): void {
  s.touches.push(t);
  s.touches.sort((x, y) => x.at - y.at);
}

/** The newest human touch at or before `at` still inside its window; a click wins a tie. */
export function lastTouch(s: EngagementState, at: number, a: Attribution): Touch | null {
  let best: Touch | null = null;
  for (const t of s.touches) {
    if (t.at > at || at - t.at > (t.kind === "click" ? a.clickWindowMs : a.openWindowMs)) continue;
    if (!best || t.at > best.at || (t.at === best.at && t.kind === "click")) best = t;
  }
  return best;
}

function convert(s: EngagementState, e: StoredEvent, p: Props, at: number, a: Attribution, counts: Counts): void {
  const revenue = orderRevenue(p as never) ?? 0;
  const touch = lastTouch(s, at, a);
  if (touch) {
    counts.add(touch.s, at, { conversions: 1, revenue });
    s.credits.push({ msg: e.messageId, at, revenue, touch: touch.kind, source: touch.s });
  }
  const windowMs = Math.max(a.clickWindowMs, a.openWindowMs);
  for (const x of s.assignments) {
    if (at < x.at || at - x.at > windowMs) continue;
    const arm = x.held ? "held" : "treated";
    const m: Partial<Record<Metric, number>> = { [`${arm}Revenue`]: revenue, [`${arm}RevenueSq`]: (x.rev + revenue) ** 2 - x.rev ** 2 };
    if (!x.conv) m[`${arm}Conversions`] = 1;
    x.conv = true;
    x.rev += revenue;
    // Counted on the firing's day: the report compares the cohorts fired in a period.
    counts.add({ trigger: x.t }, x.day * DAY_MS, m);
  }
}

/** A firing of a trigger with a holdout, from Rapport itself (a client cannot fake one). */
function assign(s: EngagementState, e: StoredEvent, p: Props, at: number, counts: Counts): void {
  const trigger = str(p.trigger_id);
  const delivery = str(p.delivery_id);
  if (!isInternalSource(e.sourceId) || !trigger || !delivery || s.assignments.some((x) => x.d === delivery)) return;
  const held = p.holdout === true;
  const day = Math.floor(at / DAY_MS);
  s.assignments.push({ t: trigger, d: delivery, held, at, day, conv: false, rev: 0 });
  counts.add({ trigger }, at, held ? { held: 1 } : { treated: 1 });
  // The message sent carries the delivery id: the ESP's events about it find the trigger.
  if (!held) markOf(s, delivery, { trigger, delivery }, at);
}

function trimmed(s: EngagementState): EngagementState {
  const newest = Math.max(0, ...s.marks.map((m) => m.at), ...s.touches.map((t) => t.at), ...s.assignments.map((x) => x.at));
  const since = newest - KEPT_MS;
  const keep = <T extends { at: number }>(list: T[], n: number) =>
    list
      .filter((x) => x.at >= since)
      .sort((x, y) => x.at - y.at)
      .slice(-n);
  return { marks: keep(s.marks, KEEP.marks), touches: keep(s.touches, KEEP.touches), assignments: keep(s.assignments, KEEP.assignments), credits: keep(s.credits, KEEP.credits) };
}

/**
 * Two profiles of one person: their marks, touches, firings and credits together (what each
 * counted stays counted; a message both saw keeps the earlier mark's flags). Commutative.
 */
export function mergeEngagement(a: EngagementState | undefined, b: EngagementState | undefined): EngagementState | undefined {
  if (!a) return b;
  if (!b) return a;
  const marks = new Map<string, Mark>();
  for (const m of [...a.marks, ...b.marks].sort((x, y) => x.at - y.at || (x.k < y.k ? -1 : 1))) {
    const held = marks.get(m.k);
    marks.set(m.k, held ? { ...held, s: merged(m.s, held.s), ...((held.d ?? m.d) !== undefined ? { d: Math.min(held.d ?? Infinity, m.d ?? Infinity) } : {}), ...(held.r || m.r ? { r: 1 } : {}), ...(held.o || m.o ? { o: 1 } : {}), ...(held.c || m.c ? { c: 1 } : {}) } : m);
  }
  const assignments = new Map<string, Assignment>();
  for (const x of [...a.assignments, ...b.assignments]) if (!assignments.has(x.d)) assignments.set(x.d, x);
  return trimmed({ marks: [...marks.values()], touches: [...a.touches, ...b.touches], assignments: [...assignments.values()], credits: [...a.credits, ...b.credits] });
}
