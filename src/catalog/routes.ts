
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { CatalogUpdate } from "./schemas";
import { getProduct } from "./store";
import { applyCatalogUpdate } from "./update";

const TAG = "Catalog";

export function registerCatalogRoutes(app: App): void {
  route(app, { method: "post", path: "/v1/catalog/products", tag: TAG, scope: "admin", summary: "Update products; price drops and restocks go to the customers who viewed them", body: CatalogUpdate, responses: { 202: "Updated, and the changes found" } }, async (c, { body: { products } }) => {
    const { updated, changes } = await applyCatalogUpdate(c.env, products);
    return c.json({ updated, changes: changes.map((ch) => ({ event: ch.event, productId: ch.productId, ...(ch.properties.drop_percent !== undefined ? { previousPrice: ch.properties.previous_price, price: ch.properties.price, dropPercent: ch.properties.drop_percent } : {}) })) }, 202);
  });

  route(app, { method: "get", path: "/v1/catalog/products/{id}", tag: TAG, scope: "admin", summary: "A product as the catalog holds it", params: IdParam, responses: { 200: "The product", 404: "No such product" } }, async (c, { params: { id } }) => {
    const product = await getProduct(c.env.DB, id);
    if (!product) throw new ApiError("not_found", `No product ${id}`);
    return c.json(product);
  });
}
