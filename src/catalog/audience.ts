/**
 * The audience of catalog changes: who viewed which product, and when last. A price drop or a
 * restock goes to the customers who viewed the product recently (jobs/catalog-fanout.ts), so the
 * pipeline records views, but only while a trigger starts on a catalog change and only for the
 * customers such a trigger can reach (triggers/conditions.ts canReach). Pure.
 */
import type { StoredEvent } from "../model/events";
import { productOf } from "../model/products";
import { startEvents, type Trigger } from "../triggers/definition";
import { CATALOG_EVENTS } from "./changes";

export interface ProductView {
  productId: string;
  customerId: string;
  viewedAt: number;
}

/** Does the trigger start on a catalog change (so product views are its audience)? */
export const startsOnCatalogChange = (t: Trigger) => startEvents(t.definition).some((name) => CATALOG_EVENTS.includes(name));

/** A customer's `Product Viewed` events as views, the latest per product. */
export function latestViews(customerId: string, events: readonly StoredEvent[]): ProductView[] {
  const views = new Map<string, ProductView>();
  for (const e of events) {
    const product = e.type === "track" && e.event === "Product Viewed" ? productOf(e.properties) : null;
    if (!product) continue;
    const viewedAt = Date.parse(e.timestamp);
    if ((views.get(product.productId)?.viewedAt ?? 0) < viewedAt) views.set(product.productId, { productId: product.productId, customerId, viewedAt });
  }
  return [...views.values()];
}
