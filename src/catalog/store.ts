/** The catalog and product views in D1. */
import { inStockOf, type StoredProduct } from "./changes";
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
