/** The catalog and product views in D1. */
import type { ShardMap } from "../db/shards";
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { products, productStats } from "../db/schema";
import type { Statement } from "../db/statements";
import type { Product } from "../model/products";
import { dayOf, type ProductDayCount } from "./activity";
import { inStockOf, type StoredProduct } from "./changes";
import type { CatalogProduct } from "./schemas";

const inStockOfRow = (v: boolean | number | null) => (v === null ? null : v === true || v === 1);

export async function loadProducts(d1: D1Database, ids: readonly string[]): Promise<Map<string, StoredProduct>> {
  const rows = await database(d1)
    .select({ id: products.id, price: products.price, currency: products.currency, inStock: products.inStock, data: products.data })
    .from(products)
    .where(sql`${products.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
    .all();
  return new Map(rows.map((r) => [r.id, { id: r.id, price: r.price, currency: r.currency, inStock: inStockOfRow(r.inStock), data: JSON.parse(r.data) as Record<string, unknown> }]));
}

/** Upserts products; fields not sent keep their stored value. */
export function upsertProductStatements(d1: D1Database, updates: readonly CatalogProduct[], before: Map<string, StoredProduct>, now: number): Statement[] {
  const db = database(d1);
  return updates.map((p) => {
    const held = before.get(p.product_id);
    const { product_id: _, price, currency, in_stock: _s, inventory_quantity: _q, ...rest } = p;
    const row = { id: p.product_id, data: JSON.stringify({ ...held?.data, ...rest }), price: price ?? held?.price ?? null, currency: currency?.toUpperCase() ?? held?.currency ?? null, inStock: inStockOf(p) ?? held?.inStock ?? null, updatedAt: now };
    const { id: _id, ...set } = row;
    return db.insert(products).values(row).onConflictDoUpdate({ target: products.id, set });
  });
}

export async function getProduct(d1: D1Database, id: string) {
  const row = await database(d1).select().from(products).where(eq(products.id, id)).get();
  return row ? { productId: row.id, ...(JSON.parse(row.data) as object), price: row.price, currency: row.currency, inStock: inStockOfRow(row.inStock), updatedAt: new Date(row.updatedAt).toISOString() } : null;
}

/**
 * One statement adding views to the product's viewers of the day (catalog/audience.ts: one row
 * per product and day whatever the number of viewers; a viewer already listed changes nothing).
 */
export function productViewStatement(d1: D1Database, views: readonly { productId: string; customerId: string; viewedAt: number }[]): Statement | null {
  if (views.length === 0) return null;
  const rows = JSON.stringify(viewerRows(views));
  return database(d1).run(sql`INSERT INTO product_viewers (product_id, day, customers)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(${rows}) WHERE true
    ON CONFLICT (product_id, day) DO UPDATE SET customers = (
      SELECT json_group_array(value) FROM (SELECT value FROM json_each(product_viewers.customers) UNION SELECT value FROM json_each(excluded.customers)))`);
}

/** [productId, day, JSON array of distinct sorted customer ids] per product and day. */
function viewerRows(views: readonly { productId: string; customerId: string; viewedAt: number }[]): [string, number, string][] {
  const byDay = new Map<string, { productId: string; day: number; ids: Set<string> }>();
  for (const v of views) {
    const day = dayOf(v.viewedAt);
    const key = `${v.productId}\n${day}`;
    const row = byDay.get(key) ?? { productId: v.productId, day, ids: new Set<string>() };
    row.ids.add(v.customerId);
    byDay.set(key, row);
  }
  return [...byDay.values()].map((r) => [r.productId, r.day, JSON.stringify([...r.ids].sort())]);
}

/**
 * Customers who viewed a product since `since` (from the start of that day), in id order after
 * `after` (paging).
 */
export async function viewersOf(map: ShardMap, productId: string, since: number, after: string, limit: number): Promise<string[]> {
  // Each shard holds the views of its own customers.
  const rows = await map.page(
    limit,
    (d1) =>
      database(d1).all<{ id: string }>(sql`SELECT DISTINCT j.value AS id FROM product_viewers p, json_each(p.customers) j
    WHERE p.product_id = ${productId} AND p.day >= ${dayOf(since)} AND j.value > ${after} ORDER BY j.value LIMIT ${limit}`),
    (r) => r.id,
  );
  return rows.map((r) => r.id);
}

/** Takes an erased customer out of every day's viewers (a scan: erasures are rare, the table small). */
export function forgetViewerStatement(d1: D1Database, customerId: string): Statement {
  const quoted = JSON.stringify(customerId);
  return database(d1).run(sql`UPDATE product_viewers SET customers = (SELECT json_group_array(value) FROM json_each(customers) WHERE value != ${customerId})
    WHERE instr(customers, ${quoted}) > 0`);
}

/** Adds a batch's per-day product counts (one statement, one written row per product and day). */
export function productStatsStatement(d1: D1Database, counts: readonly ProductDayCount[]): Statement | null {
  if (counts.length === 0) return null;
  const rows = JSON.stringify(counts.map((c) => [c.day, c.productId, c.views, c.adds, c.purchases]));
  return database(d1).run(sql`INSERT INTO product_stats (day, product_id, views, adds, purchases)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(${rows}) WHERE true
    ON CONFLICT (day, product_id) DO UPDATE SET views = views + excluded.views, adds = adds + excluded.adds, purchases = purchases + excluded.purchases`);
}

/**
 * Products seen in events but unknown to the catalog join it with what the event said. Known
 * products are left alone: catalog updates are the authority on price and stock.
 */
export function unknownProductsStatement(d1: D1Database, seen: readonly Product[], now: number): Statement | null {
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
  return database(d1).run(sql`INSERT INTO products (id, data, price, currency, in_stock, updated_at)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), NULL, ${now} FROM json_each(${JSON.stringify(rows)}) WHERE true
    ON CONFLICT (id) DO NOTHING`);
}

/**
 * The most popular products over the days since `sinceDay`: views count 1, cart adds 3,
 * purchases 5. Out-of-stock products are left out.
 */
export async function popularProductIds(d1: D1Database, sinceDay: number, limit: number): Promise<string[]> {
  const score = sql<number>`sum(${productStats.views} + 3 * ${productStats.adds} + 5 * ${productStats.purchases})`;
  const rows = await database(d1)
    .select({ id: productStats.productId, score })
    .from(productStats)
    .leftJoin(products, eq(products.id, productStats.productId))
    .where(and(gte(productStats.day, sinceDay), sql`(${products.inStock} IS NULL OR ${products.inStock} = 1)`))
    .groupBy(productStats.productId)
    .orderBy(desc(score), productStats.productId)
    .limit(limit)
    .all();
  return rows.map((r) => r.id);
}

/** Deletes popularity counts of days before `beforeDay`. */
export async function deleteOldStats(d1: D1Database, beforeDay: number): Promise<number> {
  const res = await database(d1).delete(productStats).where(lt(productStats.day, beforeDay)).run();
  return res.meta.changes ?? 0;
}
