/**
 * Click-time links (`/v1/r/{block}/{slot}`): where a click goes is decided when it happens. The
 * click becomes an `Email Link Clicked` event of the customer (ingest/email-click.ts).
 */
import { INTERNAL_SOURCE_PREFIX } from "../model/events";
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
