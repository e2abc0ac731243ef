/**
 * A click on a click-time link becomes an `Email Link Clicked` event of the customer, through the
 * same Queue as any event (so it counts in profiles and starts or cancels triggers). A click on a
 * block under experiment names the experiment and the variant the customer was shown.
 */
import { newId } from "../kernel/crypto";
import { CLICK_EVENT } from "../content/clicks";
import type { ProductCard } from "../content/recommendations";
import type { Requester } from "../content/requesters";
import type { CustomerProfile } from "../profiles/document";
import { queueCustomerEvent } from "./customer-event";
import { messageProperties, type MessageRefs } from "../content/message-refs";

export interface Click extends MessageRefs {
  block: string;
  version: number;
  slot: number;
  url: string;
  product: ProductCard | null;
  userAgent: string | null;
  ip: string | null;
  /** The experiment on the block, the variant shown, and its conversion rule (a click is an exposure too). */
  experiment?: { id: string; variant: string; event: string; windowHours: number };
  /** How the edge classified the request (docs/engagement.md); scanners' clicks are never recorded. */
  requester?: Requester;
}

/** Queues the click as the customer's event; false when the customer has no id events can carry. */
export async function recordClick(env: Env, profile: CustomerProfile, click: Click, requestId: string): Promise<boolean> {
  const properties = {
    block_id: click.block,
    block_version: click.version,
    slot: click.slot,
    link_url: click.url,
    ...messageProperties(click),
    ...(click.product ? { product_id: click.product.id } : {}),
    ...(click.requester ? { engagement_class: click.requester.kind, engagement_reason: click.requester.reason } : {}),
    ...(click.experiment ? { experiment_id: click.experiment.id, variation_id: click.experiment.variant, conversion_event: click.experiment.event, conversion_window_hours: click.experiment.windowHours } : {}),
  };
  return queueCustomerEvent(env, profile, { event: CLICK_EVENT, messageId: newId("clk"), properties, userAgent: click.userAgent, ip: click.ip }, requestId);
}
