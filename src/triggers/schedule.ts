/**
 * When a due timer may fire: quiet hours in the customer's time zone (deferred to the end of the
 * window, never skipped), a frequency cap per customer, and the trigger's expiry. Pure.
 */
import type { TriggerDefinition } from "./definition";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time at `at` in `timeZone`, as milliseconds since a UTC epoch (for offsets). */
function wallClock(at: number, timeZone: string): number {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!) + (at % 1000);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The first instant at or after `at` outside the quiet window, in `timeZone`. Across a daylight
 * saving change the end is corrected by the change in UTC offset.
 */
export function afterQuietHours(at: number, quiet: { start: string; end: string }, timeZone: string): number {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return at;
  const local = wallClock(at, timeZone);
  const minute = Math.floor((local % 86_400_000) / 60_000);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return at;
  const untilEnd = ((end - minute + 1440) % 1440) * 60_000 - (local % 60_000);
  const candidate = at + untilEnd;
  const offsetShift = local - at - (wallClock(candidate, timeZone) - candidate);
  return candidate + offsetShift;
}

const hh = (h: number) => `${String(h % 24).padStart(2, "0")}:00`;

/**
 * When a message due at `dueAt` goes out at the customer's best hour: the first instant at or
 * after `dueAt` inside hour `bestHour` of `timeZone`, if that is within `withinHours` of `dueAt`
 * and still to come at `now`; null: deliver now (the hour is too far, or has come).
 */
export function atBestHour(dueAt: number, now: number, bestHour: number, timeZone: string, withinHours: number): number | null {
  // Every hour but the best one is "quiet": the end of that window is the best hour's start.
  const start = afterQuietHours(dueAt, { start: hh(bestHour + 1), end: hh(bestHour) }, timeZone);
  if (start - dueAt > withinHours * 3_600_000) return null;
  return start > now ? start : null;
}

/** Has the customer already had `cap.count` messages of this trigger within the period? */
export function isCapped(cap: TriggerDefinition["frequencyCap"], sentAt: readonly number[], now: number): boolean {
  if (!cap) return false;
  const since = now - cap.periodHours * 3_600_000;
  return sentAt.filter((t) => t > since).length >= cap.count;
}

export type FireDecision =
  | { action: "fire" }
  | { action: "defer"; until: number }
  | { action: "drop"; outcome: "expired" | "too_late" | "capped" };

/**
 * What to do with a timer scheduled for `scheduledAt` (its due time, or the end of the quiet
 * hours it was deferred to) when its alarm runs at `now`: drop it (trigger expired,
 * too late to be relevant, frequency cap reached), defer it past quiet hours, or fire it.
 * Conditions on the profile are checked after this, by the caller, because they need a read.
 */
export function decide(definition: TriggerDefinition, scheduledAt: number, now: number, timeZone: string | null, sentAt: readonly number[]): FireDecision {
  const until = definition.expiry.until ? Date.parse(definition.expiry.until) : Infinity;
  if (now > until) return { action: "drop", outcome: "expired" };
  if (now - scheduledAt > definition.expiry.maxLateHours * 3_600_000) return { action: "drop", outcome: "too_late" };
  if (definition.quietHours) {
    const zone = timeZone ?? definition.quietHours.defaultTimeZone;
    const allowed = afterQuietHours(now, definition.quietHours, zone);
    if (allowed > now) return { action: "defer", until: allowed };
  }
  if (isCapped(definition.frequencyCap, sentAt, now)) return { action: "drop", outcome: "capped" };
  return { action: "fire" };
}
