import { forgetCatalogCache } from "../src/catalog/read-cache";
import type { BlockInput } from "../src/content/definition";
import { expect } from "vitest";
import { processEvents } from "../src/pipeline/process";
import { admin, api, env, uid } from "./helpers";
import { ev, hoursAgo, track } from "./trigger-helpers";

export async function putBlock(id: string, definition: BlockInput, publish = true): Promise<Response> {
  return admin(`/v1/blocks/${id}${publish ? "?publish=true" : ""}`, { method: "PUT", body: JSON.stringify(definition) });
}

/** The links of a block for a customer, as `GET /v1/blocks/{id}/links` gives them. */
export async function linksOf(block: string, customer: string, ttl?: number): Promise<{ customerId: string; contentToken: string; token: Record<"html" | "json" | "svg" | "png", string>; signed: Record<"html" | "json" | "svg" | "png", string>; click: string }> {
  const res = await admin(`/v1/blocks/${block}/links?customer=${encodeURIComponent(customer)}${ttl ? `&ttl=${ttl}` : ""}`);
  if (res.status !== 200) throw new Error(`links: ${res.status} ${await res.text()}`);
  return res.json();
}

/** GETs an absolute URL of the app (links carry the origin). */
export function fetchUrl(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const u = new URL(url);
  return api(`${u.pathname}${u.search}`, { headers, redirect: "manual" });
}

export { forgetCatalogCache };

/** A shopper with views, a purchase and a cart; a catalog that knows one product is sold out. */
export async function shopper() {
  const userId = uid("shopper");
  const p = (name: string) => `${userId}-${name}`;
  const product = (name: string, price: number, extra: Record<string, unknown> = {}) => ({ product_id: p(name), name: name[0]!.toUpperCase() + name.slice(1), price, currency: "EUR", url: `https://shop.example/${name}`, image_url: `https://cdn.shop.example/${name}.jpg`, ...extra });
  await processEvents(env, [
    ev({ type: "identify", userId, traits: { firstName: "<b>Ada</b>", email: `${userId}@example.com` }, context: { locale: "en-US" }, timestamp: hoursAgo(5) }),
    track({ userId }, "Product Viewed", product("lamp", 40), 4),
    track({ userId }, "Product Viewed", product("chair", 120), 3),
    track({ userId }, "Product Viewed", product("mug", 9), 2),
    track({ userId }, "Product Viewed", product("sofa", 900), 1.5),
    track({ userId }, "Order Completed", { order_id: "o-1", products: [{ product_id: p("mug"), price: 9, quantity: 1 }] }, 1),
    track({ userId }, "Product Added", product("desk", 300, { quantity: 2 }), 0.5),
  ]);
  const res = await admin("/v1/catalog/products", { method: "POST", body: JSON.stringify({ products: [{ product_id: p("sofa"), in_stock: false }, { product_id: p("chair"), price: 99.5 }] }) });
  expect(res.status).toBe(202);
  return { userId, p };
}

export const CARD = {
  html: `<td class="card"><a href="{{ product.click_url }}"><img src="{{ product.image_url | image_size: 200 }}" alt="{{ product.name }}"></a><p class="name">{{ product.name }}</p><p class="price">{{ product.price | money: product.currency }}</p></td>`,
  css: ".name{font-size:14px;margin:0}",
};
export const GRID = (partial: string) => ({
  description: "Products for you",
  html: `<style>@media (max-width:600px){.card{padding:4px}}</style><h1 class="title">Hi {{ customer.first_name | default: "there" }}</h1>
<p class="cart">{{ cart.item_count | pluralize: "item", "items" }} in your cart</p>
<table><tr>{% for product in products %}{% render "${partial}", product: product %}{% endfor %}</tr></table>`,
  css: ".title{font-weight:bold;color:#111111}.cart{color:#555555}",
  fallback: `<p class="title">Our bestsellers</p>`,
  products: { source: "recommended" as const, limit: 4 },
  links: { fallbackUrl: "https://shop.example/bestsellers" },
});

