/**
 * The product lists a template can show, from the customer's session and the catalog. Pure.
 *
 * - `recently_viewed`, `cart`, `purchased`: the session's lists, with the catalog's current
 *   name, price, image and stock (the catalog is the authority once it knows a product);
 * - `popular`: the catalog's most popular products of the last days;
 * - `recommended`: recently viewed, then popular, leaving out what is in the cart.
 *
 * Every list but `purchased` and `cart` leaves out products already purchased; `inStockOnly`
 * leaves out those the catalog knows are out of stock.
 */
import type { StoredProduct } from "../catalog/changes";
import type { Session } from "../profiles/document";
import type { ProductSource } from "./definition";

/** A product as templates see it (Liquid-style snake_case). */
export interface ProductCard {
  id: string;
  sku: string | null;
  name: string | null;
  price: number | null;
  currency: string | null;
  url: string | null;
  image_url: string | null;
  category: string | null;
  brand: string | null;
  /** null: the catalog does not say. */
  in_stock: boolean | null;
}

type SessionProduct = { productId: string; sku?: string; name?: string; price?: number; currency?: string; category?: string; brand?: string; url?: string; imageUrl?: string };

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

export function productCard(id: string, fromSession: SessionProduct | undefined, stored: StoredProduct | undefined): ProductCard {
  const d = stored?.data ?? {};
  return {
    id,
    sku: text(d.sku) ?? fromSession?.sku ?? null,
    name: text(d.name) ?? fromSession?.name ?? null,
    price: stored?.price ?? fromSession?.price ?? null,
    currency: stored?.currency ?? fromSession?.currency ?? null,
    url: text(d.url) ?? fromSession?.url ?? null,
    image_url: text(d.image_url) ?? fromSession?.imageUrl ?? null,
    category: text(d.category) ?? fromSession?.category ?? null,
    brand: text(d.brand) ?? fromSession?.brand ?? null,
    in_stock: stored?.inStock ?? null,
  };
}

export interface CartLine extends ProductCard {
  quantity: number;
}

export interface Recommendations {
  recommended: ProductCard[];
  recently_viewed: ProductCard[];
  cart: CartLine[];
  purchased: ProductCard[];
  popular: ProductCard[];
}

/** Every product id a session and the popular list mention: what to look up in the catalog. */
export function productIdsOf(session: Session | null, popular: readonly string[]): string[] {
  const ids = new Set<string>(popular);
  for (const p of [...(session?.recentViews ?? []), ...(session?.cart.items ?? []), ...(session?.purchased ?? [])]) ids.add(p.productId);
  return [...ids];
}

export function recommend(session: Session | null, catalog: ReadonlyMap<string, StoredProduct>, popular: readonly string[], options: { limit: number; inStockOnly: boolean }): Recommendations {
  const purchased = new Set((session?.purchased ?? []).map((p) => p.productId));
  const inCart = new Set((session?.cart.items ?? []).map((p) => p.productId));
  const available = (c: ProductCard) => !options.inStockOnly || c.in_stock !== false;
  const cards = (list: readonly SessionProduct[]) => list.map((p) => productCard(p.productId, p, catalog.get(p.productId)));
  const viewed = cards(session?.recentViews ?? []).filter((c) => !purchased.has(c.id) && available(c));
  const popularCards = popular.map((id) => productCard(id, undefined, catalog.get(id))).filter((c) => !purchased.has(c.id) && available(c) && catalog.has(c.id));
  const recommended: ProductCard[] = [];
  for (const c of [...viewed, ...popularCards]) {
    if (recommended.length >= options.limit) break;
    if (!inCart.has(c.id) && !recommended.some((r) => r.id === c.id)) recommended.push(c);
  }
  return {
    recommended,
    recently_viewed: viewed.slice(0, options.limit),
    cart: (session?.cart.items ?? []).map((i) => ({ ...productCard(i.productId, i, catalog.get(i.productId)), quantity: i.quantity })),
    purchased: cards(session?.purchased ?? []).slice(0, options.limit),
    popular: popularCards.filter((c) => !inCart.has(c.id)).slice(0, options.limit),
  };
}

/** The list a block's `products` shows. */
export function productsFor(source: ProductSource, r: Recommendations, limit: number): ProductCard[] {
  return r[source].slice(0, limit);
}
