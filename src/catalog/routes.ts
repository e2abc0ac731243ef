/**
 * `POST /v1/catalog/products` (admin keys: a price change can send email to thousands, so a
 * public write key may not make one) updates the catalog and queues the price drops and restocks
 * it finds for the customers who viewed those products. `GET /v1/catalog/products/{id}` reads one.
 */
import type { App } from "../api/app";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { jsonBody, parseInput } from "../api/validation";
import { CatalogUpdate } from "./schemas";
import { getProduct } from "./store";
import { applyCatalogUpdate } from "./update";

export function registerCatalogRoutes(app: App): void {
  app.use("/v1/catalog/*", requireKey("admin"));

  app.post("/v1/catalog/products", async (c) => {
    const { products } = parseInput(CatalogUpdate, await jsonBody(c), "catalog update");
    const { updated, changes } = await applyCatalogUpdate(c.env, products);
    return c.json({ updated, changes: changes.map((ch) => ({ event: ch.event, productId: ch.productId, ...(ch.properties.drop_percent !== undefined ? { previousPrice: ch.properties.previous_price, price: ch.properties.price, dropPercent: ch.properties.drop_percent } : {}) })) }, 202);
  });

  app.get("/v1/catalog/products/:id", async (c) => {
    const product = await getProduct(c.env.DB, c.req.param("id"));
    if (!product) throw new ApiError("not_found", `No product ${c.req.param("id")}`);
    return c.json(product);
  });
}
