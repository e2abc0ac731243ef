/**
 * Segment messages as a storefront's analytics.js and an email platform send them: pages, the
 * e-commerce spec's events (`Product Viewed`, `Product Added`, `Checkout Started`,
 * `Order Completed`), the email spec's `Email Opened` and `Email Link Clicked`, and identify calls.
 * No `sentAt`: like any import of past events, each message's `timestamp` is taken as it is.
 */
import type { SimProduct } from "./catalog.ts";
import type { Person } from "./people.ts";

export type SimMessage = { type: "track" | "page" | "identify"; messageId: string; timestamp: string; userId?: string; anonymousId?: string } & Record<string, unknown>;

/** A message and its time, before its id is given (ids follow time order within a shopper). */
export interface Timed {
  at: number;
  message: Omit<SimMessage, "messageId" | "timestamp">;
}

export const CURRENCY = "EUR";

const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.0 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 19_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.0 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 16; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0",
];
/** Device shares: mobile first, as on most shops. */
export const USER_AGENT_WEIGHTS = [0.25, 0.15, 0.3, 0.25, 0.05];
export const userAgent = (i: number) => USER_AGENTS[i]!;

/** Who a browser message is from: the device's anonymousId, and the userId once signed in. */
export interface Visitor {
  anonymousId: string;
  userId?: string;
  userAgent: string;
  locale: string;
}

export function browser(v: Visitor, message: Record<string, unknown> & { type: "track" | "page" | "identify" }): Timed["message"] {
  return { ...message, anonymousId: v.anonymousId, ...(v.userId ? { userId: v.userId } : {}), context: { library: { name: "analytics.js", version: "5.2.0" }, userAgent: v.userAgent, locale: v.locale } };
}

export function pageOf(v: Visitor, name: string, path: string, referrer: string | undefined): Timed["message"] {
  return browser(v, { type: "page", name, properties: { path, url: `https://shop.example${path}`, title: `${name} | Shop`, ...(referrer ? { referrer } : {}) } });
}

export const productProperties = (p: SimProduct, quantity?: number) => ({ product_id: p.product_id, sku: p.sku, name: p.name, category: p.category, brand: p.brand, price: p.price, currency: CURRENCY, url: p.url, image_url: p.image_url, ...(quantity ? { quantity } : {}) });

export interface Line {
  product: SimProduct;
  quantity: number;
}

const cents = (x: number) => Math.round(x * 100) / 100;

/** Checkout and order properties of a cart: products, value, and a discount when there is a coupon. */
export function orderProperties(lines: readonly Line[], ids: { order_id?: string; checkout_id: string }, coupon?: { code: string; percent: number }) {
  const subtotal = cents(lines.reduce((s, l) => s + l.product.price * l.quantity, 0));
  const discount = coupon ? cents((subtotal * coupon.percent) / 100) : 0;
  return {
    ...ids,
    subtotal,
    ...(coupon ? { coupon: coupon.code, discount } : {}),
    revenue: cents(subtotal - discount),
    currency: CURRENCY,
    products: lines.map((l) => productProperties(l.product, l.quantity)),
  };
}

/** What a sign-up or a guest checkout tells: the person's details. */
export function traitsOf(p: Person, withAddress: boolean): Record<string, unknown> {
  return { email: p.email, firstName: p.firstName, lastName: p.lastName, ...(p.phone ? { phone: p.phone } : {}), ...(withAddress ? { address: p.address } : {}) };
}
