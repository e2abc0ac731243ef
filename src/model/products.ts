/**
 * Products as Segment's e-commerce spec names them in event properties (Product Viewed, Product
 * Added, Order Completed's `products`): the sessions, the catalog, computed traits and deliveries
 * all read them the same way. Pure.
 */
import { numberOf, textOf } from "../kernel/values";
import type { Json, StoredEvent } from "./events";

export interface Product {
  productId: string;
  sku?: string;
  name?: string;
  price?: number;
  currency?: string;
  category?: string;
  brand?: string;
  url?: string;
  imageUrl?: string;
}

const str = textOf;
const num = numberOf;

/** A product from Segment e-commerce properties (`product_id` or `sku`), or null without an id. */
export function productOf(p: Json | undefined): Product | null {
  if (!p) return null;
  const productId = str(p.product_id) ?? str(p.productId) ?? str(p.sku) ?? str(p.id);
  if (!productId) return null;
  const product: Product = { productId };
  const fields: [keyof Product, unknown][] = [
    ["sku", str(p.sku)],
    ["name", str(p.name)],
    ["price", num(p.price)],
    ["currency", str(p.currency)],
    ["category", str(p.category)],
    ["brand", str(p.brand)],
    ["url", str(p.url)],
    ["imageUrl", str(p.image_url) ?? str(p.imageUrl)],
  ];
  for (const [k, v] of fields) if (v !== undefined) (product as unknown as Record<string, unknown>)[k] = v;
  return product;
}

/**
 * The products an e-commerce event is about: the one of Product Viewed and Product Added, the
 * `products` of an Order Completed. (Popularity and computed traits count the same products.)
 */
export function productsOfEvent(e: StoredEvent): Product[] {
  if (e.event === "Order Completed") return productsOf(e.properties).map(([, p]) => p!);
  if (e.event === "Product Viewed" || e.event === "Product Added") {
    const p = productOf(e.properties);
    return p ? [p] : [];
  }
  return [];
}

/** The products of an event's `products` list, each beside its raw properties. */
export const productsOf = (p: Json | undefined) => (Array.isArray(p?.products) ? (p.products as Json[]).map((x) => [x, productOf(x)] as const).filter(([, x]) => x) : []);
