import { describe, expect, it } from "vitest";
import { shopifySignature } from "../../src/sources/shopify/signature";
import { admin, api, env, eventually, getCustomer, profileWhen, uid } from "../helpers";

const SECRET = "shpss_local_demo";

async function webhook(topic: string, payload: unknown, options: { secret?: string; webhookId?: string; signature?: string } = {}): Promise<Response> {
  return webhookText(topic, JSON.stringify(payload), options);
}

/** A webhook from its body's text: Shopify's own ids past 2^53 cannot go through JSON.stringify. */
async function webhookText(topic: string, body: string, options: { secret?: string; webhookId?: string; signature?: string } = {}): Promise<Response> {
  const signature = options.signature ?? (await shopifySignature(options.secret ?? SECRET, new TextEncoder().encode(body).buffer as ArrayBuffer));
  return api("/v1/webhooks/shopify", {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-topic": topic, "x-shopify-hmac-sha256": signature, "x-shopify-webhook-id": options.webhookId ?? crypto.randomUUID(), "x-shopify-shop-domain": "demo-shop.myshopify.com" },
    body,
  });
}

const customerPayload = (id: number, email: string, updatedAt: string, firstName: string) => ({
  id,
  email,
  first_name: firstName,
  last_name: "Lovelace",
  phone: "+442071838750",
  orders_count: 0,
  updated_at: updatedAt,
  created_at: "2026-01-01T10:00:00Z",
  email_marketing_consent: { state: "subscribed" },
  default_address: { address1: "1 Main St", city: "London", province_code: "ENG", zip: "N1 9GU", country_code: "GB" },
});

describe("Shopify webhooks", () => {
  it("refuse a bad signature with 401 and keep nothing", async () => {
    const email = `${uid("nobody")}@example.com`;
    const res = await webhook("customers/create", customerPayload(1, email, "2026-11-01T10:00:00Z", "Eve"), { secret: "wrong" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const quarantined = (await (await admin("/v1/admin/quarantine?limit=200")).json()) as { items?: { raw: string }[]; entries?: { raw: string }[] };
    expect(JSON.stringify(quarantined)).not.toContain(email);
  });

  it("map customers, checkouts and orders to one profile, by Shopify customer id and email, retries counted once, older updates never winning", async () => {
    const shopifyId = Math.floor(Math.random() * 1e12);
    const email = `${uid("ada")}@example.com`;
    expect((await webhook("customers/create", customerPayload(shopifyId, email, "2026-11-01T10:00:00Z", "Ada"))).status).toBe(200);
    // An older update delivered late does not overwrite the newer name.
    await webhook("customers/update", customerPayload(shopifyId, email, "2026-11-03T10:00:00Z", "Augusta"));
    await webhook("customers/update", customerPayload(shopifyId, email, "2026-11-02T10:00:00Z", "Old name"));
    const line = { product_id: 632910392, variant_id: 808950810, sku: "IPOD-342", title: "IPod Nano", price: "199.00", quantity: 2, vendor: "Apple" };
    await webhook("checkouts/create", { token: "ck-1", email, customer: { id: shopifyId }, total_price: "398.00", subtotal_price: "398.00", currency: "EUR", line_items: [line], created_at: new Date().toISOString() });
    const order = { id: 450789469, email, customer: { id: shopifyId, email }, created_at: new Date().toISOString(), currency: "EUR", total_price: "409.94", subtotal_price: "398.00", total_tax: "11.94", total_discounts: "0.00", line_items: [line], discount_codes: [{ code: "WELCOME" }] };
    const webhookId = crypto.randomUUID();
    await webhook("orders/create", order, { webhookId });
    // Shopify retries the same webhook: same id.
    await webhook("orders/create", order, { webhookId });
    const profile = await profileWhen(`email:${email}`, (p) => p.computed?.orderCount === 1 && p.counters.events["Checkout Started"] === 1 && p.traits.firstName === "Augusta");
    expect(profile.identities.externalIds).toEqual([{ type: "shopify_customer_id", id: String(shopifyId) }]);
    expect(profile.traits).toMatchObject({ email, firstName: "Augusta", lastName: "Lovelace", phone: "+442071838750", acceptsMarketing: true, address: { city: "London", country: "GB" } });
    expect(profile.computed.totalRevenue).toEqual({ EUR: 398 });
    const events = (await (await getCustomer(`email:${email}`)).json()) as { eventCount: number };
    expect(events.eventCount).toBe(5);
    const stored = (await (await api(`/v1/customers/email:${encodeURIComponent(email)}/events`, { headers: { authorization: "Bearer rk_local_demo" } })).json()) as { events: { event?: string; properties?: Record<string, unknown> }[] };
    expect(stored.events.find((e) => e.event === "Order Completed")?.properties).toMatchObject({ order_id: "450789469", total: 409.94, revenue: 398, tax: 11.94, coupon: "WELCOME", products: [{ product_id: "632910392", sku: "IPOD-342", name: "IPod Nano", price: 199, quantity: 2, brand: "Apple" }] });
  });

  it("keep every digit of ids past 2^53, as in Shopify's sample orders/create payload", async () => {
    const email = `${uid("jon")}@example.com`;
    // The ids of Shopify's sample payload (shopify.dev, orders/create), with a fresh email.
    const body = `{"id":820982911946154508,"email":"${email}","created_at":"${new Date().toISOString()}","currency":"USD","total_price":"403.00","subtotal_price":"393.00","total_tax":"0.00","total_discounts":"0.00","customer":{"id":115310627314723954,"email":"${email}","first_name":"John","last_name":"Smith"},"line_items":[{"id":866550311766439020,"product_id":632910392,"variant_id":808950810,"sku":"IPOD2008PINK","title":"IPod Nano - 8GB","price":"199.00","quantity":1,"vendor":null}]}`;
    expect((await webhookText("orders/create", body)).status).toBe(200);
    const profile = await profileWhen(`email:${email}`, (p) => p.computed?.orderCount === 1);
    expect(profile.identities.externalIds).toEqual([{ type: "shopify_customer_id", id: "115310627314723954" }]);
    const stored = (await (await api(`/v1/customers/email:${encodeURIComponent(email)}/events`, { headers: { authorization: "Bearer rk_local_demo" } })).json()) as { events: { event?: string; properties?: Record<string, unknown> }[] };
    expect(stored.events.find((e) => e.event === "Order Completed")?.properties?.order_id).toBe("820982911946154508");
    // The profile is found by the exact id, not by its rounded neighbour.
    expect((await getCustomer("external:shopify_customer_id:115310627314723954")).status).toBe(200);
    expect((await getCustomer("external:shopify_customer_id:115310627314723950")).status).toBe(404);
  });

  it("feed the catalog from products/update", async () => {
    const id = Math.floor(Math.random() * 1e12);
    const product = { id, title: "Linen shirt", handle: "linen-shirt", product_type: "shirts", vendor: "Acme", image: { src: "https://cdn.example/shirt.png" }, variants: [{ price: "59.00", inventory_quantity: 3 }, { price: "49.00", inventory_quantity: 0 }] };
    expect((await webhook("products/update", product)).status).toBe(200);
    const stored = await eventually(async () => {
      const res = await admin(`/v1/catalog/products/${id}`);
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
    }, "product stored");
    expect(stored).toMatchObject({ name: "Linen shirt", price: 49, inStock: true, url: "https://demo-shop.myshopify.com/products/linen-shirt", category: "shirts", brand: "Acme" });
  });

  it("quarantine a well-signed payload it cannot map, with the reason", async () => {
    const marker = uid("guest");
    const res = await webhook("orders/create", { id: 1, note: marker, line_items: [] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { quarantined: string }).quarantined).toBe("unmappable");
    await eventually(async () => {
      const body = JSON.stringify(await (await admin("/v1/admin/quarantine?limit=200")).json());
      return body.includes(marker) && body.includes("names no customer");
    }, "quarantined");
    expect(env.SHOPIFY_WEBHOOK_SECRETS).toBe(SECRET);
  });
});
