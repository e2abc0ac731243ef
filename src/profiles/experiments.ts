/**
 * A customer's part in experiments (docs/experiments.md), kept on the profile: which variant they
 * were first shown and what they did after it within the experiment's window. Pure and independent
 * of arrival order for exposures (the earliest by event time wins, ties by messageId); outcomes
 * count the events applied after the exposure is known and within its window.
 *
 * Exposures are Rapport's own `Experiment Viewed` events (content/experiments): the window and the
 * conversion event travel on them, so applying needs no experiment definitions.
 */
import type { StoredEvent } from "../model/events";
import { isInternalSource } from "../model/events";
import { orderRevenue } from "./computed";

export const EXPOSURE_EVENT = "Experiment Viewed";
export const CLICK_EVENT_NAME = "Email Link Clicked";
/** Guardrail events (Segment's email spec and common ESP webhook names). */
export const UNSUBSCRIBE_EVENTS = new Set(["Unsubscribed", "Email Unsubscribed"]);
export const COMPLAINT_EVENTS = new Set(["Email Marked as Spam", "Spam Reported"]);

export interface ExperimentRecord {
  /** The variant shown first ("holdout" for the holdout). */
  variant: string;
  /** Exposure time (ms) and the exposure's messageId: the earliest wins. */
  at: number;
  msg: string;
  /** Outcomes count until this time (ms): exposure + the experiment's window. */
  until: number;
  /** The event that counts as a conversion (`Order Completed` by default). */
  event: string;
  conversions: number;
  /** Revenue of those conversions, minor units (cents) of whatever currency the orders were in. */
  revenue: number;
  clicks: number;
  unsubscribes: number;
  complaints: number;
  /**
   * What the customer had done before the exposure (CUPED's covariates): conversion events,
   * revenue (minor units) and clicks on email links, as the profile stood before the batch that
   * brought the exposure. Absent in records written before they existed.
   */
  pre?: [number, number, number];
}
export type ExperimentRecords = Record<string, ExperimentRecord>;

/** At most this many experiments are held per profile (the oldest exposures give way). */
const MAX_RECORDS = 50;

interface Exposure {
  experiment: string;
  variant: string;
  windowMs: number;
  event: string;
}

/**
 * An `Experiment Viewed` from Rapport itself (never a client's: they could not fake results), or
 * Rapport's own `Email Link Clicked` on a block under experiment, which names the variant too: a
 * click is an exposure, whichever of the two events a batch brings first.
 */
export function exposureOf(e: StoredEvent): Exposure | null {
  if (e.type !== "track" || (e.event !== EXPOSURE_EVENT && e.event !== CLICK_EVENT_NAME) || !isInternalSource(e.sourceId)) return null;
  const p = e.properties ?? {};
  const experiment = p.experiment_id;
  const variant = p.variation_id;
  const hours = p.conversion_window_hours;
  if (typeof experiment !== "string" || typeof variant !== "string") return null;
  return { experiment, variant, windowMs: (typeof hours === "number" && hours > 0 ? hours : 168) * 3_600_000, event: typeof p.conversion_event === "string" ? p.conversion_event : "Order Completed" };
}

/** The profile before a batch, as the covariates of an exposure in it read it. */
export interface Before {
  /** How many events of this name the profile had counted. */
  count(event: string): number;
  /** Revenue so far, minor units, every currency added up. */
  revenue: number;
}

const NOTHING_BEFORE: Before = { count: () => 0, revenue: 0 };

const blank = (x: Exposure, at: number, msg: string, before: Before): ExperimentRecord => ({
  variant: x.variant,
  at,
  msg,
  until: at + x.windowMs,
  event: x.event,
  conversions: 0,
  revenue: 0,
  clicks: 0,
  unsubscribes: 0,
  complaints: 0,
  pre: [before.count(x.event), before.revenue, before.count(CLICK_EVENT_NAME)],
});

/** `records` with `events` applied; `records` is not modified. `before`: the profile before these events (the covariates of a new exposure). */
export function applyExperimentEvents(records: ExperimentRecords | undefined, events: readonly StoredEvent[], before: Before = NOTHING_BEFORE): ExperimentRecords | undefined {
  let next: ExperimentRecords | undefined;
  const edit = (): ExperimentRecords => (next ??= { ...records });
  // Exposures first, so an outcome in the same batch as its exposure counts.
  for (const e of events) {
    const x = exposureOf(e);
    if (!x) continue;
    const ts = Date.parse(e.timestamp);
    const held = (next ?? records)?.[x.experiment];
    if (held && (held.at < ts || (held.at === ts && held.msg <= e.messageId))) continue;
    edit()[x.experiment] = held ? { ...held, variant: x.variant, at: ts, msg: e.messageId, until: ts + x.windowMs } : blank(x, ts, e.messageId, before);
  }
  for (const e of events) {
    if (e.type !== "track" || !e.event || e.event === EXPOSURE_EVENT) continue;
    const ts = Date.parse(e.timestamp);
    for (const [id, r] of Object.entries(next ?? records ?? {})) {
      // A click naming the experiment came from its variant, even when it was recorded a moment
      // before the exposure it caused (a click is an exposure when no image was loaded).
      const namesIt = e.event === CLICK_EVENT_NAME && e.properties?.experiment_id === id;
      if ((ts < r.at && !namesIt) || ts > r.until) continue;
      const out = { ...r };
      if (namesIt) out.clicks += 1;
      else if (e.event === r.event) {
        out.conversions += 1;
        out.revenue += orderRevenue(e.properties) ?? 0;
      } else if (UNSUBSCRIBE_EVENTS.has(e.event)) out.unsubscribes += 1;
      else if (COMPLAINT_EVENTS.has(e.event)) out.complaints += 1;
      else continue;
      edit()[id] = out;
    }
  }
  return next ? trimmed(next) : records;
}

/** The newest MAX_RECORDS exposures. */
function trimmed(records: ExperimentRecords): ExperimentRecords {
  const ids = Object.keys(records);
  if (ids.length <= MAX_RECORDS) return records;
  const keep = ids.sort((a, b) => records[b]!.at - records[a]!.at).slice(0, MAX_RECORDS);
  return Object.fromEntries(keep.map((id) => [id, records[id]!]));
}

/**
 * Two profiles of one person: per experiment, the earlier exposure's variant and window, and the
 * outcomes of both (each counted once, on the profile that applied it). Commutative.
 */
export function mergeExperimentRecords(a: ExperimentRecords | undefined, b: ExperimentRecords | undefined): ExperimentRecords | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: ExperimentRecords = { ...a };
  for (const [id, r] of Object.entries(b)) {
    const held = out[id];
    if (!held) {
      out[id] = r;
      continue;
    }
    const first = r.at < held.at || (r.at === held.at && r.msg < held.msg) ? r : held;
    out[id] = { ...first, conversions: held.conversions + r.conversions, revenue: held.revenue + r.revenue, clicks: held.clicks + r.clicks, unsubscribes: held.unsubscribes + r.unsubscribes, complaints: held.complaints + r.complaints };
  }
  return trimmed(out);
}

/** Do two record sets say the same (nothing new for the experiment tallies)? */
export function sameRecord(a: ExperimentRecord | undefined, b: ExperimentRecord | undefined): boolean {
  if (!a || !b) return a === b;
  return a.variant === b.variant && a.at === b.at && a.conversions === b.conversions && a.revenue === b.revenue && a.clicks === b.clicks && a.unsubscribes === b.unsubscribes && a.complaints === b.complaints;
}
