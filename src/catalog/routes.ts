/**
 * `POST /v1/catalog/products` (admin keys: a price change can send email to thousands, so a
 * public write key may not make one) updates the catalog and queues the price drops and restocks
 * it finds for the customers who viewed those products. `GET /v1/catalog/products/{id}` reads one.
 */
import type { App } from "../app";
import { requireKey } from "../http/auth";
import { ApiError } from "../http/errors";
import { jsonBody, parseInput } from "../http/validation";
import { log } from "../log";
import { catalogChanges } from "./changes";
import type { CatalogJob } from "./fanout";
import { CatalogUpdate } from "./schemas";
import { forgetCatalogCache } from "./read-cache";
import { getProduct, loadProducts, upsertProductStatements } from "./store";

export function registerCatalogRoutes(app: App): void {
  app.use("/v1/catalog/*", requireKey("admin"));

  app.post("/v1/catalog/products", async (c) => {
    const { products } = parseInput(CatalogUpdate, await jsonBody(c), "catalog update");
    // The last entry for a product wins within one update.
    const latest = [...new Map(products.map((p) => [p.product_id, p])).values()];
    const now = Date.now();
    const before = await loadProducts(c.env.DB, latest.map((p) => p.product_id));
    const changes = latest.flatMap((p) => catalogChanges(before.get(p.product_id) ?? null, p));
    await c.env.DB.batch(upsertProductStatements(c.env.DB, latest, before, now));
    forgetCatalogCache();
    const jobs: CatalogJob[] = changes.map((change) => ({ v: 1, kind: "catalog_fanout", change: { ...change, at: now }, after: "" }));
    for (let i = 0; i < jobs.length; i += 100) await c.env.JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
    if (changes.length > 0) log("info", "catalog.changes", { changes: changes.map((ch) => `${ch.event}:${ch.productId}`) });
    return c.json({ updated: latest.length, changes: changes.map((ch) => ({ event: ch.event, productId: ch.productId, ...(ch.properties.drop_percent !== undefined ? { previousPrice: ch.properties.previous_price, price: ch.properties.price, dropPercent: ch.properties.drop_percent } : {}) })) }, 202);
  });

  app.get("/v1/catalog/products/:id", async (c) => {
    const product = await getProduct(c.env.DB, c.req.param("id"));
    if (!product) throw new ApiError("not_found", `No product ${c.req.param("id")}`);
    return c.json(product);
  });
}
