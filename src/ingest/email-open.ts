/**
 * An open of an email through Rapport's open pixel becomes an `Email Opened` event of the customer
 * (Segment's email spec), through the same Queue as any event, with what it belongs to (block,
 * message, delivery, trigger, experiment) and how the request was classified at the edge: a
 * person, a machine open (Apple Mail Privacy Protection's prefetch) or a scanner, and why
 * (docs/engagement.md). Machine opens are recorded, flagged: reports count them apart and the send
 * time estimate leaves them out.
 */
import { newId } from "../kernel/crypto";
import type { Requester } from "../content/requesters";
import type { CustomerProfile } from "../profiles/document";
import { queueCustomerEvent } from "./customer-event";
import { messageProperties, type MessageRefs } from "../content/message-refs";

export const OPEN_EVENT = "Email Opened";

export interface Open extends MessageRefs {
  block: string;
  experiment?: { id: string; variant: string };
  requester: Requester;
  userAgent: string | null;
  ip: string | null;
}

export async function recordOpen(env: Env, profile: CustomerProfile, open: Open, requestId: string): Promise<boolean> {
  const properties = {
    block_id: open.block,
    ...messageProperties(open),
    ...(open.experiment ? { experiment_id: open.experiment.id, variation_id: open.experiment.variant } : {}),
    engagement_class: open.requester.kind,
    engagement_reason: open.requester.reason,
  };
  return queueCustomerEvent(env, profile, { event: OPEN_EVENT, messageId: newId("opn"), properties, userAgent: open.userAgent, ip: open.ip }, requestId);
}
