/**
 * When a customer reads email (issue 25, docs/engagement.md): engagement counted by hour of day in
 * the customer's own time zone, and the best hour to deliver, shrunk towards a population curve
 * while the customer's history is thin. Pure and independent of arrival order (counts add up;
 * the time zone is the latest one an event carried, by event time).
 *
 * What counts, with its weight: a person's open (`Email Opened`, 1; not one flagged as a machine
 * open: Apple Mail Privacy Protection, prefetch, scanners), a click on an email link (`Email Link
 * Clicked`, 2; not one flagged as a scanner's), an order (`Order Completed`, 1: people buy when
 * they have time to read).
 *
 * The estimate: posterior weight of hour h = prior·p(h) + n(h), where p is the population curve
 * (normalized) and `prior` the number of engagements it is worth (PRIOR_WEIGHT); the best hour is
 * the largest, smoothed over its neighbours (h−1, h, h+1, weights ¼ ½ ¼) so one stray event does
 * not decide. Its confidence is the share of the posterior in that three-hour window.
 */
import type { StoredEvent } from "../model/events";
import { populationCurve } from "./population-curve";

export interface SendTimeState {
  /** Weighted engagements by local hour, 0–23. */
  hours: number[];
  /** The latest IANA time zone events carried ([zone, event time ms]), or null (UTC is assumed). */
  zone: [string, number] | null;
}

/** How many engagements the population curve is worth: a dozen (docs/engagement.md has the accuracy this gives by history). */
export const PRIOR_WEIGHT = 12;

export { DEFAULT_POPULATION_CURVE } from "./population-curve";

const WEIGHTS: Record<string, number> = { "Email Opened": 1, "Email Link Clicked": 2, "Order Completed": 1 };

/** Flags ESPs and Rapport put on machine opens and scanner clicks. */
function isMachine(p: Record<string, unknown> | undefined): boolean {
  if (!p) return false;
  const kind = p.engagement_class ?? p.classification;
  return p.machine_open === true || p.apple_privacy_open === true || p.bot === true || p.is_bot === true || kind === "machine_open" || kind === "scanner";
}

/** The event's weight as engagement (0: it says nothing about when the customer reads). */
export function engagementWeight(e: StoredEvent): number {
  if (e.type !== "track" || !e.event) return 0;
  const w = WEIGHTS[e.event] ?? 0;
  return w > 0 && !isMachine(e.properties as Record<string, unknown> | undefined) ? w : 0;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();

/** The hour of `ms` in `zone` (UTC when the zone is unknown or invalid). */
export function localHour(ms: number, zone: string | null): number {
  if (zone) {
    let f = formatters.get(zone);
    if (f === undefined) {
      try {
        f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hour: "numeric", hourCycle: "h23" });
      } catch {
        f = null;
      }
      if (formatters.size > 500) formatters.clear();
      formatters.set(zone, f);
    }
    if (f) return Number(f.format(new Date(ms))) % 24;
  }
  return new Date(ms).getUTCHours();
}

const zoneOf = (e: StoredEvent): string | null => {
  const z = e.context?.timezone;
  return typeof z === "string" && z.length > 0 && z.length <= 64 ? z : null;
};

/** `state` with `events` applied (not modified); undefined while nothing has counted. */
export function applySendTime(state: SendTimeState | undefined, events: readonly StoredEvent[]): SendTimeState | undefined {
  let next: SendTimeState | undefined;
  const edit = () => (next ??= { hours: state ? [...state.hours] : new Array<number>(24).fill(0), zone: state?.zone ?? null });
  // Zones first: an event's hour is read in the zone the customer is known to live in.
  for (const e of events) {
    const zone = zoneOf(e);
    const ts = Date.parse(e.timestamp);
    const held = (next ?? state)?.zone;
    if (zone && (!held || ts > held[1] || (ts === held[1] && zone > held[0]))) edit().zone = [zone, ts];
  }
  for (const e of events) {
    const w = engagementWeight(e);
    if (w === 0) continue;
    const s = edit();
    const hour = localHour(Date.parse(e.timestamp), zoneOf(e) ?? s.zone?.[0] ?? null);
    s.hours[hour] = (s.hours[hour] ?? 0) + w;
  }
  return next ?? state;
}

/** Two profiles of one person: their engagement adds up; the later zone wins. */
export function mergeSendTime(a: SendTimeState | undefined, b: SendTimeState | undefined): SendTimeState | undefined {
  if (!a) return b;
  if (!b) return a;
  const zone = !a.zone ? b.zone : !b.zone ? a.zone : b.zone[1] > a.zone[1] || (b.zone[1] === a.zone[1] && b.zone[0] > a.zone[0]) ? b.zone : a.zone;
  return { hours: a.hours.map((n, h) => n + (b.hours[h] ?? 0)), zone };
}

export interface SendTimeEstimate {
  /** The best hour to deliver, 0–23, in `timeZone`. */
  bestHour: number;
  timeZone: string;
  /** Share of the posterior within an hour of the best hour. */
  confidence: number;
  /** The customer's own weighted engagements behind it (0: the population curve alone). */
  engagements: number;
}

export function estimateSendTime(state: SendTimeState | undefined, population: readonly number[] = populationCurve(), prior = PRIOR_WEIGHT): SendTimeEstimate {
  const total = population.reduce((a, b) => a + b, 0);
  const own = state?.hours ?? new Array<number>(24).fill(0);
  const posterior = own.map((n, h) => n + (prior * (population[h] ?? 0)) / total);
  const at = (h: number) => posterior[(h + 24) % 24]!;
  const smoothed = posterior.map((_, h) => 0.25 * at(h - 1) + 0.5 * at(h) + 0.25 * at(h + 1));
  let best = 0;
  for (let h = 1; h < 24; h++) if (smoothed[h]! > smoothed[best]!) best = h;
  const sum = posterior.reduce((a, b) => a + b, 0);
  return { bestHour: best, timeZone: state?.zone?.[0] ?? "UTC", confidence: (at(best - 1) + at(best) + at(best + 1)) / sum, engagements: own.reduce((a, b) => a + b, 0) };
}

/** What the events between two states of one customer add by local hour (their new engagement). */
export function hourDeltas(before: SendTimeState | undefined, after: SendTimeState | undefined): number[] | null {
  if (!after || after === before) return null;
  const delta = after.hours.map((n, h) => n - (before?.hours[h] ?? 0));
  return delta.some((d) => d !== 0) ? delta : null;
}
