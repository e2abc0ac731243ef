/**
 * Click-time links (`/v1/r/{block}/{slot}`): where a click goes is decided when it happens, and
 * the click becomes an `Email Link Clicked` event of the customer, through the same Queue as
 * any event (so it counts in profiles and starts or cancels triggers).
 */
import { newId } from "../kernel/crypto";
import { INTERNAL_SOURCE_PREFIX } from "../model/events";
import { enqueue, validateOne } from "../ingest/accept";
import { log } from "../kernel/log";
import type { CustomerProfile } from "../profiles/document";
import type { BlockDefinition } from "./definition";
import type { ProductCard } from "./recommendations";

export const CLICK_EVENT = "Email Link Clicked";
export const CLICK_SOURCE_ID = `${INTERNAL_SOURCE_PREFIX}content`;

/**
 * The destination of slot `slot`: that product if it still has a URL (the list is already
 * today's: in stock, not yet bought), else the first product that has one, else the block's
 * fallback URL. Null: nowhere to send the click.
 */
export function clickDestination(products: readonly ProductCard[], slot: number, d: BlockDefinition): { url: string; product: ProductCard | null } | null {
  const chosen = products[slot];
  if (chosen?.url && isHttpUrl(chosen.url)) return { url: chosen.url, product: chosen };
  const other = products.find((p) => p.url && isHttpUrl(p.url));
  if (other) return { url: other.url!, product: other };
  return d.links ? { url: d.links.fallbackUrl, product: null } : null;
}

/** Only http(s) destinations: a product URL is data from events, never a `javascript:` link. */
function isHttpUrl(url: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

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
