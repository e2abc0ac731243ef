/**
 * An event Rapport records for a customer it has just served (a click on a click-time link, an
 * experiment exposure): a track event of its own source, through the same Queue as any event, so
 * it counts in profiles and starts or cancels triggers.
 */
import { log } from "../kernel/log";
import { CLICK_SOURCE_ID } from "../content/clicks";
import type { CustomerProfile } from "../profiles/document";
import { enqueue, validateOne } from "./accept";

export interface CustomerEvent {
  event: string;
  messageId: string;
  properties: Record<string, unknown>;
  userAgent: string | null;
  ip: string | null;
}

/** Queues the event as the customer's; false when the customer has no id events can carry. */
export async function queueCustomerEvent(env: Env, profile: CustomerProfile, e: CustomerEvent, requestId: string): Promise<boolean> {
  const userId = profile.userId ?? undefined;
  const anonymousId = userId ? undefined : profile.identities.anonymousIds[0];
  if (!userId && !anonymousId) {
    log("warn", "content.event_unattributable", { customerId: profile.id, event: e.event });
    return false;
  }
  const raw = {
    type: "track",
    event: e.event,
    messageId: e.messageId,
    ...(userId ? { userId } : { anonymousId }),
    properties: e.properties,
    context: { ...(e.userAgent ? { userAgent: e.userAgent } : {}), ...(e.ip ? { ip: e.ip } : {}), library: { name: "rapport-content" } },
  };
  const ctx = { receivedAt: new Date(), sourceId: CLICK_SOURCE_ID };
  const result = await validateOne(raw, "track", "", ctx);
  if (!("event" in result)) {
    log("error", "content.event_invalid", { customerId: profile.id, event: e.event, errors: result.errors });
    return false;
  }
  await enqueue(env, [result.event], [], ctx, requestId);
  return true;
}
