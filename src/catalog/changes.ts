/**
 * What a catalog update changed that a customer may care about: a lower price, or a product
 * back in stock. Pure. Each change becomes a `Price Dropped` or `Back In Stock` event for every
 * customer who viewed the product recently, and triggers start on those like on any event.
 */
import { CATALOG_CHANGE_EVENTS } from "../model/jobs";
import type { CatalogProduct } from "./schemas";

export const [PRICE_DROPPED, BACK_IN_STOCK] = CATALOG_CHANGE_EVENTS;
/** The events catalog changes produce; a trigger starting on one makes the pipeline record views. */
export const CATALOG_EVENTS: readonly string[] = CATALOG_CHANGE_EVENTS;

export interface StoredProduct {
  id: string;
  price: number | null;
  currency: string | null;
  inStock: boolean | null;
  data: Record<string, unknown>;
}

export interface CatalogChange {
  event: typeof PRICE_DROPPED | typeof BACK_IN_STOCK;
  productId: string;
  /** Properties of the event: the product as now, plus the previous price and the drop. */
  properties: Record<string, unknown>;
}

export const inStockOf = (p: CatalogProduct): boolean | null => p.in_stock ?? (p.inventory_quantity === undefined ? null : p.inventory_quantity > 0);

/** The changes between the stored product (null: new to the catalog) and its update. */
export function catalogChanges(before: StoredProduct | null, after: CatalogProduct): CatalogChange[] {
  if (!before) return [];
  const changes: CatalogChange[] = [];
  const product = { ...before.data, ...after };
  const sameCurrency = !after.currency || !before.currency || after.currency.toUpperCase() === before.currency;
  if (after.price !== undefined && before.price !== null && after.price < before.price && sameCurrency) {
    const dropPercent = Math.round(((before.price - after.price) / before.price) * 1000) / 10;
    changes.push({ event: PRICE_DROPPED, productId: after.product_id, properties: { ...product, previous_price: before.price, drop_percent: dropPercent } });
  }
  if (before.inStock === false && inStockOf(after) === true) {
    changes.push({ event: BACK_IN_STOCK, productId: after.product_id, properties: product });
  }
  return changes;
}
