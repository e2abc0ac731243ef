/**
 * An event Rapport records for a customer (a click on a click-time link, an experiment exposure,
 * an open, a trigger's firing): a track event of one of its own sources, through the same Queue
 * as any event, so it counts in profiles and starts or cancels triggers.
 */
import { log } from "../kernel/log";
import { CLICK_SOURCE_ID } from "../content/clicks";
import type { CustomerProfile } from "../profiles/document";
import { enqueue, validateOne } from "./accept";
import type { StoredEvent } from "../model/events";

export interface CustomerEvent {
  event: string;
  messageId: string;
  properties: Record<string, unknown>;
  userAgent: string | null;
  ip: string | null;
  /** When it happened (ISO); now by default. */
  timestamp?: string;
}

/**
 * The raw track event as the customer's (by user id, else an anonymous id); null when the customer has
 * neither. For Rapport's own events about a customer (email opens and clicks, trigger records, survey
 * answers, exposures): the log line names the event, whichever part of Rapport made it.
 */
export function customerEventRaw(profile: Pick<CustomerProfile, "id" | "userId" | "identities">, e: CustomerEvent): Record<string, unknown> | null {
  const userId = profile.userId ?? undefined;
  const anonymousId = userId ? undefined : profile.identities.anonymousIds[0];
  if (!userId && !anonymousId) {
    log("warn", "ingest.own_event_unattributable", { customerId: profile.id, event: e.event });
    return null;
  }
  return {
    type: "track",
    event: e.event,
    messageId: e.messageId,
    ...(e.timestamp ? { timestamp: e.timestamp } : {}),
    ...(userId ? { userId } : { anonymousId }),
    properties: e.properties,
    context: { ...(e.userAgent ? { userAgent: e.userAgent } : {}), ...(e.ip ? { ip: e.ip } : {}), library: { name: "rapport-content" } },
  };
}

/** Validates raw events of one of Rapport's own sources and queues them; returns how many went. */
export async function queueRawEvents(env: Env, raws: readonly Record<string, unknown>[], sourceId: string, requestId: string): Promise<number> {
  const ctx = { receivedAt: new Date(), sourceId };
  const events: StoredEvent[] = [];
  for (const raw of raws) {
    const result = await validateOne(raw, "track", "", ctx);
    if ("event" in result) events.push(result.event);
    else log("error", "content.event_invalid", { event: raw.event, errors: result.errors });
  }
  if (events.length > 0) await enqueue(env, events, [], ctx, requestId);
  return events.length;
}

/** Queues the event as the customer's; false when the customer has no id events can carry. */
export async function queueCustomerEvent(env: Env, profile: CustomerProfile, e: CustomerEvent, requestId: string): Promise<boolean> {
  const raw = customerEventRaw(profile, e);
  return raw !== null && (await queueRawEvents(env, [raw], CLICK_SOURCE_ID, requestId)) === 1;
}
