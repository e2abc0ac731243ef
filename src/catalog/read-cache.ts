/**
 * Catalog reads for rendering, cached per isolate: product data for a minute, the popular list
 * for five. A send of a million emails reads each product from D1 about once a minute per
 * isolate, not once per recipient.
 */
import { dayOf } from "./activity";
import type { StoredProduct } from "./changes";
import { loadProducts, popularProductIds } from "./store";

const PRODUCT_TTL_MS = 60_000;
const POPULAR_TTL_MS = 5 * 60_000;
/** Popular = most viewed, added and bought over this many days. */
export const POPULAR_DAYS = 14;
const POPULAR_MAX = 48;

const products = new Map<string, { product: StoredProduct | null; until: number }>();
let popular: { ids: Promise<string[]>; until: number } | null = null;

export async function catalogProducts(db: D1Database, ids: readonly string[], now = Date.now()): Promise<Map<string, StoredProduct>> {
  const out = new Map<string, StoredProduct>();
  const missing: string[] = [];
  for (const id of ids) {
    const held = products.get(id);
    if (held && held.until > now) {
      if (held.product) out.set(id, held.product);
    } else missing.push(id);
  }
  if (missing.length > 0) {
    const loaded = await loadProducts(db, missing);
    if (products.size > 20_000) products.clear();
    for (const id of missing) {
      const product = loaded.get(id) ?? null;
      products.set(id, { product, until: now + PRODUCT_TTL_MS });
      if (product) out.set(id, product);
    }
  }
  return out;
}

/** The popular product ids; concurrent callers share one query. */
export function popularIds(db: D1Database, now = Date.now()): Promise<string[]> {
  if (!popular || popular.until <= now) {
    const ids = popularProductIds(db, dayOf(now) - POPULAR_DAYS, POPULAR_MAX);
    popular = { ids, until: now + POPULAR_TTL_MS };
    // A failed query is not kept: the next render asks again.
    ids.catch(() => {
      if (popular?.ids === ids) popular = null;
    });
  }
  return popular.ids;
}

/** Forgets cached catalog data (after a catalog update in this isolate, and in tests). */
export function forgetCatalogCache(): void {
  products.clear();
  popular = null;
}
