/**
 * Shopify webhook payloads as Rapport events, with the Segment e-commerce spec's names:
 *
 *   orders/create      → track Order Completed (order_id, total, revenue, tax, discount, shipping,
 *                        currency, coupon, products)
 *   orders/paid        → track Order Paid (not an order again: computed traits count Order Completed)
 *   checkouts/create   → track Checkout Started;  checkouts/update → track Checkout Updated
 *   customers/create, customers/update → identify (email, names, phone, address, marketing consent),
 *                        ordered by the record's `updated_at` (context.sourceUpdatedAt)
 *   products/update    → a catalog update (price drops and restocks follow)
 *
 * The customer is named by `context.externalIds` (`shopify_customer_id`) and the email, so a
 * Shopify customer and the same person on the storefront tag (once identified by email) are one
 * profile. Pure.
 */
import type { Json, StoredEvent } from "../../model/events";
import type { CatalogProduct } from "../../catalog/schemas";

export const SHOPIFY_TOPICS = ["orders/create", "orders/paid", "checkouts/create", "checkouts/update", "customers/create", "customers/update", "products/update"] as const;

export type Mapped = { events: StoredEvent[] } | { products: CatalogProduct[] } | { unmappable: string };

interface Meta {
  topic: string;
  webhookId: string;
  shopDomain: string | undefined;
  receivedAt: string;
}

const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : undefined);
const num = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const iso = (v: unknown, fallback: string) => (typeof v === "string" && Number.isFinite(Date.parse(v)) ? new Date(Date.parse(v)).toISOString() : fallback);
const compact = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function lineItems(items: unknown): Json[] {
  if (!Array.isArray(items)) return [];
  return items.map((raw) => {
    const i = (raw ?? {}) as Json;
    return compact({ product_id: str(i.product_id), variant: str(i.variant_id), sku: str(i.sku), name: str(i.title) ?? str(i.name), price: num(i.price), quantity: num(i.quantity), brand: str(i.vendor) });
  });
}

/** Who the payload is about: the Shopify customer id and the email, as identities. */
function who(payload: Json): { context: Json } | null {
  const customer = (payload.customer ?? {}) as Json;
  const customerId = str(customer.id) ?? (payload.first_name !== undefined || payload.orders_count !== undefined ? str(payload.id) : undefined);
  const email = str(payload.email) ?? str(customer.email) ?? str(payload.contact_email);
  if (!customerId && !email) return null;
  return {
    context: compact({
      externalIds: customerId ? [{ id: customerId, type: "shopify_customer_id", collection: "users", encoding: "none" }] : undefined,
      traits: email ? { email } : undefined,
    }),
  };
}

function track(meta: Meta, payload: Json, event: string, properties: Json, at: unknown): Mapped {
  const identity = who(payload);
  if (!identity) return { unmappable: `${meta.topic} names no customer: neither customer.id nor an email` };
  return {
    events: [{ messageId: `shopify:${meta.webhookId}`, type: "track", event, properties: compact(properties), context: identity.context, timestamp: iso(at, meta.receivedAt), receivedAt: meta.receivedAt, sourceId: "shopify" }],
  };
}

function orderProperties(p: Json): Json {
  const shipping = num(((p.total_shipping_price_set as Json | undefined)?.shop_money as Json | undefined)?.amount);
  const codes = Array.isArray(p.discount_codes) ? (p.discount_codes as Json[]).map((d) => str(d?.code)).filter(Boolean) : [];
  return {
    order_id: str(p.id),
    checkout_id: str(p.checkout_token),
    order_number: str(p.order_number),
    total: num(p.total_price),
    revenue: num(p.subtotal_price),
    tax: num(p.total_tax),
    discount: num(p.total_discounts),
    shipping,
    currency: str(p.currency),
    coupon: codes.length > 0 ? codes.join(",") : undefined,
    products: lineItems(p.line_items),
  };
}

function customerTraits(p: Json): Json {
  const address = (p.default_address ?? {}) as Json;
  const consent = (p.email_marketing_consent ?? {}) as Json;
  return compact({
    email: str(p.email),
    firstName: str(p.first_name),
    lastName: str(p.last_name),
    phone: str(p.phone),
    address: Object.keys(address).length > 0 ? compact({ street: str(address.address1), city: str(address.city), state: str(address.province_code), postalCode: str(address.zip), country: str(address.country_code) }) : undefined,
    acceptsMarketing: typeof consent.state === "string" ? consent.state === "subscribed" : typeof p.accepts_marketing === "boolean" ? p.accepts_marketing : undefined,
    createdAt: str(p.created_at),
  });
}

function product(p: Json, shopDomain: string | undefined): CatalogProduct | null {
  const id = str(p.id);
  if (!id) return null;
  const variants = Array.isArray(p.variants) ? (p.variants as Json[]) : [];
  const prices = variants.map((v) => num(v?.price)).filter((n): n is number => n !== undefined);
  const quantities = variants.map((v) => num(v?.inventory_quantity)).filter((n): n is number => n !== undefined);
  const sellsOut = variants.some((v) => v?.inventory_policy === "continue");
  const handle = str(p.handle);
  const image = str((p.image as Json | undefined)?.src);
  return compact({
    product_id: id,
    name: str(p.title),
    price: prices.length > 0 ? Math.min(...prices) : undefined,
    in_stock: quantities.length > 0 || sellsOut ? sellsOut || quantities.some((q) => q > 0) : undefined,
    url: shopDomain && handle ? `https://${shopDomain}/products/${handle}` : undefined,
    image_url: image,
    category: str(p.product_type),
    brand: str(p.vendor),
  }) as CatalogProduct;
}

export function mapShopifyWebhook(meta: Meta, payload: Json): Mapped {
  switch (meta.topic) {
    case "orders/create":
      return track(meta, payload, "Order Completed", orderProperties(payload), payload.created_at);
    case "orders/paid":
      return track(meta, payload, "Order Paid", { order_id: str(payload.id), total: num(payload.total_price), currency: str(payload.currency) }, payload.updated_at ?? payload.processed_at);
    case "checkouts/create":
    case "checkouts/update":
      return track(
        meta,
        payload,
        meta.topic === "checkouts/create" ? "Checkout Started" : "Checkout Updated",
        { checkout_id: str(payload.token) ?? str(payload.id), value: num(payload.total_price), revenue: num(payload.subtotal_price), currency: str(payload.currency), products: lineItems(payload.line_items) },
        meta.topic === "checkouts/create" ? payload.created_at : payload.updated_at,
      );
    case "customers/create":
    case "customers/update": {
      const identity = who(payload);
      if (!identity) return { unmappable: `${meta.topic} has neither an id nor an email` };
      const at = iso(payload.updated_at, meta.receivedAt);
      // The record's own update time orders trait writes: an older webhook never wins.
      return { events: [{ messageId: `shopify:${meta.webhookId}`, type: "identify", traits: customerTraits(payload), context: { ...identity.context, sourceUpdatedAt: at }, timestamp: at, receivedAt: meta.receivedAt, sourceId: "shopify" }] };
    }
    case "products/update": {
      const p = product(payload, meta.shopDomain);
      return p ? { products: [p] } : { unmappable: "products/update without a product id" };
    }
    default:
      return { unmappable: `topic ${meta.topic} is not one Rapport maps (${SHOPIFY_TOPICS.join(", ")})` };
  }
}
