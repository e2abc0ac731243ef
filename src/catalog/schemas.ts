/** A catalog update as `POST /v1/catalog/products` accepts it (Segment e-commerce field names). */
import { z } from "zod";

export const CatalogProduct = z.object({
  product_id: z.string().min(1).max(200),
  name: z.string().max(500).optional(),
  price: z.number().nonnegative().optional(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code").optional(),
  /** In stock or not; `inventory_quantity` > 0 says the same when this is absent. */
  in_stock: z.boolean().optional(),
  inventory_quantity: z.number().int().optional(),
  url: z.url().optional(),
  image_url: z.url().optional(),
  category: z.string().max(200).optional(),
  brand: z.string().max(200).optional(),
});
export type CatalogProduct = z.infer<typeof CatalogProduct>;

export const CatalogUpdate = z.object({
  products: z.array(CatalogProduct).min(1).max(1_000),
});
