/**
 * A customer's live session, as the CustomerSession Durable Object keeps it: the current visit
 * (a new one after `timeoutMs` without activity), recently viewed products, the cart, and the
 * latest device, page and time zone. Pure: events in, state out, so it is tested without bindings.
 *
 * Event names follow Segment's e-commerce spec: Product Viewed, Product Added, Product Removed,
 * Cart Viewed and Checkout Started (whose `products` replace the cart), Order Completed (empties it
 * and adds its `products` to the purchased list, which recommendations leave out).
 */
import { firstOfEach, numberOf, textOf } from "../kernel/values";
import { productOf, productsOf, type Product } from "../model/products";
import type { Json, StoredEvent } from "../model/events";
import type { Session } from "../profiles/document";
import { isoOrNull } from "../kernel/time";

export type SessionView = Session;

const str = textOf;
const num = numberOf;

export interface ViewedProduct extends Product {
  viewedAt: number;
}
export interface CartItem extends Product {
  quantity: number;
  addedAt: number;
}
export interface PurchasedProduct extends Product {
  purchasedAt: number;
}

export interface SessionState {
  current: { id: string; startedAt: number; lastActivityAt: number; events: number; pageViews: number; landingPage: string | null; referrer: string | null } | null;
  sessionCount: number;
  recentViews: ViewedProduct[];
  cart: { items: CartItem[]; updatedAt: number | null };
  lastOrderAt: number | null;
  /** Products of Order Completed events, newest first, one entry per product (bounded). */
  purchases: PurchasedProduct[];
  device: { userAgent: string | null; type: string | null; os: string | null; locale: string | null } | null;
  page: { url: string | null; path: string | null; title: string | null; referrer: string | null } | null;
  timeZone: string | null;
  /** Message ids already applied (newest last, bounded): redelivered events change nothing. */
  seen: string[];
}

export interface SessionOptions {
  timeoutMs: number;
  recentViewsMax: number;
}

export const SEEN_MAX = 500;
export const CART_MAX = 100;
export const PURCHASES_MAX = 100;

export const emptySession = (): SessionState => ({ current: null, sessionCount: 0, recentViews: [], cart: { items: [], updatedAt: null }, lastOrderAt: null, purchases: [], device: null, page: null, timeZone: null, seen: [] });


function applyCart(state: SessionState, e: StoredEvent, at: number): void {
  const items = state.cart.items;
  switch (e.event) {
    case "Product Added": {
      const product = productOf(e.properties);
      if (!product) return;
      const quantity = Math.max(1, Math.round(num(e.properties?.quantity) ?? 1));
      const existing = items.find((i) => i.productId === product.productId);
      if (existing) Object.assign(existing, product, { quantity: existing.quantity + quantity, addedAt: at });
      else items.push({ ...product, quantity, addedAt: at });
      break;
    }
    case "Product Removed": {
      const product = productOf(e.properties);
      if (!product) return;
      const existing = items.find((i) => i.productId === product.productId);
      if (!existing) return;
      const quantity = num(e.properties?.quantity);
      existing.quantity -= quantity === undefined ? existing.quantity : Math.round(quantity);
      state.cart.items = items.filter((i) => i.quantity > 0);
      break;
    }
    case "Cart Viewed":
    case "Checkout Started": {
      const listed = productsOf(e.properties);
      if (listed.length === 0) return;
      state.cart.items = listed.map(([raw, p]) => ({ ...p!, quantity: Math.max(1, Math.round(num(raw.quantity) ?? 1)), addedAt: items.find((i) => i.productId === p!.productId)?.addedAt ?? at }));
      break;
    }
    case "Order Completed":
      state.cart.items = [];
      state.lastOrderAt = Math.max(state.lastOrderAt ?? 0, at);
      state.purchases = newestPerProduct([...productsOf(e.properties).map(([, p]) => ({ ...p!, purchasedAt: at })), ...state.purchases]);
      break;
    default:
      return;
  }
  state.cart.items = state.cart.items.slice(-CART_MAX);
  state.cart.updatedAt = at;
}

/** One entry per product, the newest purchase, newest first, bounded. */
function newestPerProduct(purchases: PurchasedProduct[]): PurchasedProduct[] {
  const sorted = [...purchases].sort((a, b) => b.purchasedAt - a.purchasedAt);
  return sorted.filter((p, i) => sorted.findIndex((q) => q.productId === p.productId) === i).slice(0, PURCHASES_MAX);
}

function applyContext(state: SessionState, e: StoredEvent): void {
  const ctx = e.context ?? {};
  const device = (ctx.device ?? {}) as Json;
  const os = (ctx.os ?? {}) as Json;
  const page = (e.type === "page" ? { ...(ctx.page as Json | undefined), ...e.properties } : ctx.page) as Json | undefined;
  if (ctx.userAgent || ctx.device || ctx.os || ctx.locale) {
    state.device = {
      userAgent: str(ctx.userAgent) ?? state.device?.userAgent ?? null,
      type: str(device.type) ?? state.device?.type ?? null,
      os: [str(os.name), str(os.version)].filter(Boolean).join(" ") || (state.device?.os ?? null),
      locale: str(ctx.locale) ?? state.device?.locale ?? null,
    };
  }
  if (page && (page.url || page.path)) {
    state.page = { url: str(page.url) ?? null, path: str(page.path) ?? null, title: str(page.title) ?? null, referrer: str(page.referrer) ?? null };
  }
  const tz = str(ctx.timezone);
  if (tz) state.timeZone = tz;
}

/**
 * Applies events (any order; they are sorted by event time) to a session. Events already seen
 * are skipped. Context (device, page, time zone) comes from the newest event that carries it.
 */
export function applyToSession(previous: SessionState, events: readonly StoredEvent[], options: SessionOptions): { state: SessionState; applied: StoredEvent[] } {
  const state: SessionState = structuredClone(previous);
  const fresh = firstOfEach(events, (e) => e.messageId, new Set(state.seen));
  const sorted = [...fresh].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || a.messageId.localeCompare(b.messageId));
  for (const e of sorted) {
    const at = Date.parse(e.timestamp);
    const cur = state.current;
    if (!cur || at - cur.lastActivityAt > options.timeoutMs) {
      // Late events older than the current visit belong to a past one: they count, but do not reopen it.
      if (!cur || at > cur.lastActivityAt) {
        // analytics.js and our tag send the page in context.page (properties may be empty); a
        // page call's own properties, where they say it, win.
        const page: Json = { ...(e.context?.page as Json | undefined), ...(e.type === "page" ? e.properties : undefined) };
        state.current = { id: `ses_${at.toString(36)}`, startedAt: at, lastActivityAt: at, events: 0, pageViews: 0, landingPage: str(page.url) ?? str(page.path) ?? null, referrer: str(page.referrer) ?? null };
        state.sessionCount++;
      }
    }
    if (state.current && at >= state.current.startedAt) {
      state.current.events++;
      if (e.type === "page" || e.type === "screen") state.current.pageViews++;
      state.current.lastActivityAt = Math.max(state.current.lastActivityAt, at);
      applyContext(state, e);
    }
    if (e.type === "track" && e.event === "Product Viewed") {
      const product = productOf(e.properties);
      if (product) {
        state.recentViews = [{ ...product, viewedAt: at }, ...state.recentViews.filter((v) => v.productId !== product.productId)]
          .sort((a, b) => b.viewedAt - a.viewedAt)
          .slice(0, options.recentViewsMax);
      }
    }
    if (e.type === "track") applyCart(state, e, at);
  }
  state.seen = [...state.seen, ...fresh.map((e) => e.messageId)].slice(-SEEN_MAX);
  return { state, applied: sorted };
}

/** The session as served under `session` in the profile: no bookkeeping, times as ISO strings. */
export function sessionView(state: SessionState, options: SessionOptions): SessionView {
  const cur = state.current;
  return {
    current: cur
      ? { id: cur.id, startedAt: isoOrNull(cur.startedAt)!, lastActivityAt: isoOrNull(cur.lastActivityAt)!, expiresAt: isoOrNull(cur.lastActivityAt + options.timeoutMs)!, events: cur.events, pageViews: cur.pageViews, landingPage: cur.landingPage, referrer: cur.referrer }
      : null,
    sessionCount: state.sessionCount,
    lastActivityAt: isoOrNull(cur?.lastActivityAt ?? null),
    recentViews: state.recentViews.map((v) => ({ ...v, viewedAt: isoOrNull(v.viewedAt)! })),
    cart: {
      items: state.cart.items.map((i) => ({ ...i, addedAt: isoOrNull(i.addedAt)! })),
      itemCount: state.cart.items.reduce((n, i) => n + i.quantity, 0),
      value: Math.round(state.cart.items.reduce((s, i) => s + (i.price ?? 0) * i.quantity, 0) * 100) / 100,
      updatedAt: isoOrNull(state.cart.updatedAt),
    },
    lastOrderAt: isoOrNull(state.lastOrderAt),
    purchased: state.purchases.map((p) => ({ ...p, purchasedAt: isoOrNull(p.purchasedAt)! })),
    device: state.device,
    page: state.page,
    timeZone: state.timeZone,
  };
}

/** Two customers' sessions become one (identity merge): the union, newest wins. */
export function mergeSessions(a: SessionState, b: SessionState, options: SessionOptions): SessionState {
  const [newer, older] = (a.current?.lastActivityAt ?? 0) >= (b.current?.lastActivityAt ?? 0) ? [a, b] : [b, a];
  const views = [...a.recentViews, ...b.recentViews].sort((x, y) => y.viewedAt - x.viewedAt);
  const cartItems = new Map<string, CartItem>();
  for (const item of [...older.cart.items, ...newer.cart.items]) {
    const held = cartItems.get(item.productId);
    if (!held || item.addedAt >= held.addedAt) cartItems.set(item.productId, item);
  }
  return {
    current: newer.current ?? older.current,
    sessionCount: a.sessionCount + b.sessionCount,
    recentViews: views.filter((v, i) => views.findIndex((w) => w.productId === v.productId) === i).slice(0, options.recentViewsMax),
    cart: { items: [...cartItems.values()].slice(-CART_MAX), updatedAt: Math.max(a.cart.updatedAt ?? 0, b.cart.updatedAt ?? 0) || null },
    lastOrderAt: Math.max(a.lastOrderAt ?? 0, b.lastOrderAt ?? 0) || null,
    purchases: newestPerProduct([...a.purchases, ...b.purchases]),
    device: newer.device ?? older.device,
    page: newer.page ?? older.page,
    timeZone: newer.timeZone ?? older.timeZone,
    seen: [...new Set([...older.seen, ...newer.seen])].slice(-SEEN_MAX),
  };
}
