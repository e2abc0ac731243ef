/**
 * Applying a catalog update (the admin API's, or a commerce platform's webhook): store the
 * products and queue the price drops and restocks found for the customers who viewed them.
 */
import { runBatch } from "../db/statements";
import { log } from "../kernel/log";
import { catalogChanges, type CatalogChange } from "./changes";
import type { CatalogJob } from "../model/jobs";
import { forgetCatalogCache } from "./read-cache";
import type { CatalogProduct } from "./schemas";
import { loadProducts, upsertProductStatements } from "./store";

export async function applyCatalogUpdate(env: Env, products: readonly CatalogProduct[], now = Date.now()): Promise<{ updated: number; changes: CatalogChange[] }> {
  // The last entry for a product wins within one update.
  const latest = [...new Map(products.map((p) => [p.product_id, p])).values()];
  const before = await loadProducts(env.DB, latest.map((p) => p.product_id));
  const changes = latest.flatMap((p) => catalogChanges(before.get(p.product_id) ?? null, p));
  await runBatch(env.DB, upsertProductStatements(env.DB, latest, before, now));
  forgetCatalogCache();
  const jobs: CatalogJob[] = changes.map((change) => ({ v: 1, kind: "catalog_fanout", change: { ...change, at: now }, after: "" }));
  for (let i = 0; i < jobs.length; i += 100) await env.JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
  if (changes.length > 0) log("info", "catalog.changes", { changes: changes.map((ch) => `${ch.event}:${ch.productId}`) });
  return { updated: latest.length, changes };
}
