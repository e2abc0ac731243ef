/**
 * The rule for event times no clock should give: more than a day ahead of when Rapport received
 * the event, or before 2000. Such a time is taken to be a broken client clock (an unset date, a
 * year typed 9999), not a real event time: the event is kept, at the time it was received, and
 * flagged in `context.timestampAdjusted` with what the client said. Left as sent, a year-9999
 * event would make the profile's `lastSeenAt` 9999 for good and schedule trigger timers no alarm
 * can hold (Durable Object alarms stop at 2189), retrying forever.
 */
import type { StoredEvent } from "../model/events";

/** How far ahead of its receipt an event time is still believed (client clocks drift; time zones do not matter in ISO times). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
/** No event Rapport stores is older than this. */
export const EARLIEST_EVENT_TIME = Date.UTC(2000, 0, 1);

export type TimestampAdjustment = { reason: "future" | "before_2000"; timestamp: string };

/** The event with a believable `timestamp`: itself when it has one. */
export function withBelievableTime(event: StoredEvent): StoredEvent {
  const at = Date.parse(event.timestamp);
  const received = Date.parse(event.receivedAt);
  const reason = at > received + MAX_FUTURE_MS ? "future" : at < EARLIEST_EVENT_TIME ? "before_2000" : null;
  if (reason === null) return event;
  const adjusted: TimestampAdjustment = { reason, timestamp: event.timestamp };
  return { ...event, timestamp: event.receivedAt, context: { ...event.context, timestampAdjusted: adjusted } };
}
