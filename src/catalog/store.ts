/** The catalog and product views in D1. */
import { inStockOf, type StoredProduct } from "./changes";
import type { Product } from "../model/products";
import type { ProductDayCount } from "./activity";
import type { CatalogProduct } from "./schemas";

export async function loadProducts(db: D1Database, ids: readonly string[]): Promise<Map<string, StoredProduct>> {
  const { results } = await db
    .prepare(`SELECT id, price, currency, in_stock, data FROM products WHERE id IN (SELECT value FROM json_each(?1))`)
    .bind(JSON.stringify(ids))
    .all<{ id: string; price: number | null; currency: string | null; in_stock: number | null; data: string }>();
  return new Map(results.map((r) => [r.id, { id: r.id, price: r.price, currency: r.currency, inStock: r.in_stock === null ? null : r.in_stock === 1, data: JSON.parse(r.data) as Record<string, unknown> }]));
}

/** Upserts products; fields not sent keep their stored value. */
export function upsertProductStatements(db: D1Database, updates: readonly CatalogProduct[], before: Map<string, StoredProduct>, now: number): D1PreparedStatement[] {
  return updates.map((p) => {
    const held = before.get(p.product_id);
    const { product_id: _, price, currency, in_stock: _s, inventory_quantity: _q, ...rest } = p;
    const data = { ...held?.data, ...rest };
    const inStock = inStockOf(p) ?? held?.inStock ?? null;
    return db
      .prepare(
        `INSERT INTO products (id, data, price, currency, in_stock, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, price = excluded.price, currency = excluded.currency, in_stock = excluded.in_stock, updated_at = excluded.updated_at`,
      )
      .bind(p.product_id, JSON.stringify(data), price ?? held?.price ?? null, currency?.toUpperCase() ?? held?.currency ?? null, inStock === null ? null : inStock ? 1 : 0, now);
  });
}

export async function getProduct(db: D1Database, id: string) {
  const row = await db.prepare(`SELECT id, data, price, currency, in_stock, updated_at FROM products WHERE id = ?1`).bind(id).first<{ id: string; data: string; price: number | null; currency: string | null; in_stock: number | null; updated_at: number }>();
  return row ? { productId: row.id, ...(JSON.parse(row.data) as object), price: row.price, currency: row.currency, inStock: row.in_stock === null ? null : row.in_stock === 1, updatedAt: new Date(row.updated_at).toISOString() } : null;
}

/** One statement recording (customer, product, latest view time) pairs; older views never win. */
export function productViewStatement(db: D1Database, views: readonly { productId: string; customerId: string; viewedAt: number }[]): D1PreparedStatement | null {
  if (views.length === 0) return null;
  return db
    .prepare(
      `INSERT INTO product_views (product_id, customer_id, viewed_at)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1) WHERE true
       ON CONFLICT (product_id, customer_id) DO UPDATE SET viewed_at = max(viewed_at, excluded.viewed_at)`,
    )
    .bind(JSON.stringify(views.map((v) => [v.productId, v.customerId, v.viewedAt])));
}

/** Customers who viewed a product since `since`, in id order after `after` (paging). */
export async function viewersOf(db: D1Database, productId: string, since: number, after: string, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT customer_id FROM product_views WHERE product_id = ?1 AND customer_id > ?2 AND viewed_at >= ?3 ORDER BY customer_id LIMIT ?4`)
    .bind(productId, after, since, limit)
    .all<{ customer_id: string }>();
  return results.map((r) => r.customer_id);
}

/** Adds a batch's per-day product counts (one statement, one written row per product and day). */
export function productStatsStatement(db: D1Database, counts: readonly ProductDayCount[]): D1PreparedStatement | null {
  if (counts.length === 0) return null;
  return db
    .prepare(
      `INSERT INTO product_stats (day, product_id, views, adds, purchases)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?1) WHERE true
       ON CONFLICT (day, product_id) DO UPDATE SET views = views + excluded.views, adds = adds + excluded.adds, purchases = purchases + excluded.purchases`,
    )
    .bind(JSON.stringify(counts.map((c) => [c.day, c.productId, c.views, c.adds, c.purchases])));
}

/**
 * Products seen in events but unknown to the catalog join it with what the event said. Known
 * products are left alone: catalog updates are the authority on price and stock.
 */
export function unknownProductsStatement(db: D1Database, seen: readonly Product[], now: number): D1PreparedStatement | null {
  if (seen.length === 0) return null;
  const rows = seen.map((p) => {
    const data: Record<string, unknown> = {};
    if (p.name !== undefined) data.name = p.name;
    if (p.sku !== undefined) data.sku = p.sku;
    if (p.url !== undefined) data.url = p.url;
    if (p.imageUrl !== undefined) data.image_url = p.imageUrl;
    if (p.category !== undefined) data.category = p.category;
    if (p.brand !== undefined) data.brand = p.brand;
    return [p.productId, JSON.stringify(data), p.price ?? null, p.currency?.toUpperCase() ?? null];
  });
  return db
    .prepare(
      `INSERT INTO products (id, data, price, currency, in_stock, updated_at)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), NULL, ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(JSON.stringify(rows), now);
}

/**
 * The most popular products over the days since `sinceDay`: views count 1, cart adds 3,
 * purchases 5. Out-of-stock products are left out.
 */
export async function popularProductIds(db: D1Database, sinceDay: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT s.product_id AS id, sum(s.views + 3 * s.adds + 5 * s.purchases) AS score
       FROM product_stats s LEFT JOIN products p ON p.id = s.product_id
       WHERE s.day >= ?1 AND (p.in_stock IS NULL OR p.in_stock = 1)
       GROUP BY s.product_id ORDER BY score DESC, s.product_id LIMIT ?2`,
    )
    .bind(sinceDay, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Deletes popularity counts of days before `beforeDay`. */
export async function deleteOldStats(db: D1Database, beforeDay: number): Promise<number> {
  const res = await db.prepare(`DELETE FROM product_stats WHERE day < ?1`).bind(beforeDay).run();
  return res.meta.changes ?? 0;
}
