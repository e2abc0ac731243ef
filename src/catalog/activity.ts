/**
 * What a consumer batch's events say about products: per-day popularity counts (views, cart
 * adds, purchases) and products the catalog has not heard of yet. Pure; store.ts turns the
 * result into two D1 statements per batch, whatever the number of events.
 */
import type { StoredEvent } from "../model/events";
import { productsOfEvent, type Product } from "../model/products";

export interface ProductDayCount {
  productId: string;
  /** Days since 1970-01-01, UTC. */
  day: number;
  views: number;
  adds: number;
  purchases: number;
}

const DAY_MS = 86_400_000;
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

export function productActivity(events: readonly StoredEvent[]): { counts: ProductDayCount[]; seen: Product[] } {
  const counts = new Map<string, ProductDayCount>();
  const seen = new Map<string, Product>();
  for (const e of events) {
    if (e.type !== "track") continue;
    const day = dayOf(Date.parse(e.timestamp));
    for (const product of productsOfEvent(e)) {
      const key = `${day}\n${product.productId}`;
      const count = counts.get(key) ?? { productId: product.productId, day, views: 0, adds: 0, purchases: 0 };
      if (e.event === "Product Viewed") count.views++;
      else if (e.event === "Product Added") count.adds++;
      else count.purchases++;
      counts.set(key, count);
      // The most complete description wins (a view often carries more than an order line).
      const held = seen.get(product.productId);
      if (!held || Object.keys(product).length > Object.keys(held).length) seen.set(product.productId, product);
    }
  }
  return { counts: [...counts.values()], seen: [...seen.values()] };
}
