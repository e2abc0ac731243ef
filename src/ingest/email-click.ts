/**
 * A click on a click-time link becomes an `Email Link Clicked` event of the customer, through the
 * same Queue as any event (so it counts in profiles and starts or cancels triggers).
 */
import { newId } from "../kernel/crypto";
import { log } from "../kernel/log";
import { CLICK_EVENT, CLICK_SOURCE_ID } from "../content/clicks";
import type { ProductCard } from "../content/recommendations";
import type { CustomerProfile } from "../profiles/document";
import { enqueue, validateOne } from "./accept";

/** Queues the click as the customer's event; false when the customer has no id events can carry. */
export async function recordClick(env: Env, profile: CustomerProfile, click: { block: string; version: number; slot: number; url: string; product: ProductCard | null; userAgent: string | null; ip: string | null }, requestId: string): Promise<boolean> {
  const userId = profile.userId ?? undefined;
  const anonymousId = userId ? undefined : profile.identities.anonymousIds[0];
  if (!userId && !anonymousId) {
    log("warn", "content.click_unattributable", { customerId: profile.id, block: click.block });
    return false;
  }
  const raw = {
    type: "track",
    event: CLICK_EVENT,
    messageId: newId("clk"),
    ...(userId ? { userId } : { anonymousId }),
    properties: { block_id: click.block, block_version: click.version, slot: click.slot, link_url: click.url, ...(click.product ? { product_id: click.product.id } : {}) },
    context: { ...(click.userAgent ? { userAgent: click.userAgent } : {}), ...(click.ip ? { ip: click.ip } : {}), library: { name: "rapport-content" } },
  };
  const ctx = { receivedAt: new Date(), sourceId: CLICK_SOURCE_ID };
  const result = await validateOne(raw, "track", "", ctx);
  if (!("event" in result)) {
    log("error", "content.click_invalid", { customerId: profile.id, errors: result.errors });
    return false;
  }
  await enqueue(env, [result.event], [], ctx, requestId);
  return true;
}
