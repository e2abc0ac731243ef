/**
 * Built-in computed traits, kept up to date by the pipeline on every event, incrementally: no
 * rescans. Pure. Like the rest of the profile, the result depends only on the set of events, not
 * on their order, and two states merge by the same rules (sums, minimums, maximums), so a merge
 * of two profiles equals the profile of all their events.
 *
 * - orders: `Order Completed` events; revenue per currency, in minor units (integer sums are
 *   exact in any order), from `revenue`, else `total`, else the sum of `products` price × quantity;
 * - engagement: a score where each event adds a weight that halves every 30 days. Weights are
 *   summed per UTC day (quarters add up exactly in any order, where decayed floats would not),
 *   for the year before the newest event: older days would add under 0.03% of their weight;
 * - favourite category and brand: product views count 1, cart adds 2, purchases 3.
 */
import type { Json, StoredEvent } from "../model/events";
import { productsOfEvent } from "../model/products";
import { addCounts, maxOf, minOf, numberOf } from "../kernel/values";

export interface ComputedState {
  orders: number;
  /** Currency (ISO 4217, or "" when unknown) → [revenue in minor units (cents), orders]. */
  revenue: Record<string, [number, number]>;
  firstOrderAt: number | null;
  lastOrderAt: number | null;
  /** UTC day (days since 1970) → the weights of that day's events. */
  engagement: Record<string, number>;
  categories: Record<string, number>;
  brands: Record<string, number>;
}

export const emptyComputed = (): ComputedState => ({ orders: 0, revenue: {}, firstOrderAt: null, lastOrderAt: null, engagement: {}, categories: {}, brands: {} });

export const ENGAGEMENT_HALF_LIFE_DAYS = 30;
/** Days of engagement kept, counted back from the newest event's day. */
const ENGAGEMENT_DAYS = 365;
const DAY_MS = 86_400_000;

/** How much an event says the customer is engaged. */
export const ENGAGEMENT_WEIGHTS: Record<string, number> = {
  "Email Opened": 1,
  "Email Link Clicked": 3,
  "Product Viewed": 1,
  "Product Added": 2,
  "Order Completed": 5,
};
const PAGE_WEIGHT = 0.25;

/** A profile holds at most this many categories and brands (beyond, new names are not counted). */
export const MAX_NAMES = 500;

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim().slice(0, 100) : undefined);

/** Only the year before the newest day: a function of the set of days, whatever the order. */
function pruneDays(days: Record<string, number>): Record<string, number> {
  const keys = Object.keys(days);
  if (keys.length === 0) return days;
  const newest = Math.max(...keys.map(Number));
  for (const k of keys) if (Number(k) < newest - ENGAGEMENT_DAYS) delete days[k];
  return days;
}

/** The order's revenue in minor units, or null when the event says none. */
export function orderRevenue(p: Json | undefined): number | null {
  const stated = numberOf(p?.revenue) ?? numberOf(p?.total);
  if (stated !== undefined) return Math.round(stated * 100);
  if (!Array.isArray(p?.products) || p.products.length === 0) return null;
  let cents = 0;
  for (const line of p.products as Json[]) cents += Math.round((numberOf(line?.price) ?? 0) * 100) * Math.max(1, Math.round(numberOf(line?.quantity) ?? 1));
  return cents;
}

const INTEREST: Record<string, number> = { "Product Viewed": 1, "Product Added": 2, "Order Completed": 3 };

function count(into: Record<string, number>, name: string | undefined, n: number): void {
  if (!name) return;
  if (!(name in into) && Object.keys(into).length >= MAX_NAMES) return;
  into[name] = (into[name] ?? 0) + n;
}

/** `state` with `events` added; `state` is not modified (it is copied once, not per event). */
export function applyComputed(state: ComputedState | undefined, events: readonly StoredEvent[]): ComputedState {
  const base = state ?? emptyComputed();
  const next: ComputedState = { ...base, revenue: { ...base.revenue }, engagement: { ...base.engagement }, categories: { ...base.categories }, brands: { ...base.brands } };
  for (const e of events) addEvent(next, e);
  pruneDays(next.engagement);
  return next;
}

function addEvent(next: ComputedState, e: StoredEvent): void {
  const at = Date.parse(e.timestamp);
  if (!Number.isFinite(at)) return;
  const weight = e.type === "track" ? (ENGAGEMENT_WEIGHTS[e.event ?? ""] ?? 0) : e.type === "page" || e.type === "screen" ? PAGE_WEIGHT : 0;
  if (weight > 0) {
    const day = String(Math.floor(at / DAY_MS));
    next.engagement[day] = (next.engagement[day] ?? 0) + weight;
  }
  if (e.type !== "track") return;
  const interest = INTEREST[e.event ?? ""];
  if (interest) {
    for (const p of productsOfEvent(e)) {
      count(next.categories, text(p.category), interest);
      count(next.brands, text(p.brand), interest);
    }
  }
  if (e.event !== "Order Completed") return;
  next.orders += 1;
  next.firstOrderAt = minOf(next.firstOrderAt, at);
  next.lastOrderAt = maxOf(next.lastOrderAt, at);
  const cents = orderRevenue(e.properties);
  if (cents === null) return;
  const currency = typeof e.properties?.currency === "string" && /^[A-Za-z]{3}$/.test(e.properties.currency) ? e.properties.currency.toUpperCase() : "";
  const [held, orders] = next.revenue[currency] ?? [0, 0];
  next.revenue[currency] = [held + cents, orders + 1];
}

function sumPairs(a: Record<string, [number, number]>, b: Record<string, [number, number]>): Record<string, [number, number]> {
  const out = { ...a };
  for (const [k, [cents, orders]] of Object.entries(b)) {
    const [c0, o0] = out[k] ?? [0, 0];
    out[k] = [c0 + cents, o0 + orders];
  }
  return out;
}
/** Two profiles' computed traits as one (identity merge). */
export function mergeComputed(a: ComputedState, b: ComputedState): ComputedState {
  return {
    orders: a.orders + b.orders,
    revenue: sumPairs(a.revenue, b.revenue),
    firstOrderAt: minOf(a.firstOrderAt, b.firstOrderAt),
    lastOrderAt: maxOf(a.lastOrderAt, b.lastOrderAt),
    engagement: pruneDays(addCounts(a.engagement, b.engagement)),
    categories: addCounts(a.categories, b.categories, MAX_NAMES),
    brands: addCounts(a.brands, b.brands, MAX_NAMES),
  };
}

/** The engagement score at `now`: each day's weights, halved for every 30 days since (noon of) it. */
export function engagementAt(days: Record<string, number>, now: number): number {
  let score = 0;
  for (const [day, weight] of Object.entries(days)) score += weight * 2 ** (-Math.max(0, now - (Number(day) + 0.5) * DAY_MS) / (ENGAGEMENT_HALF_LIFE_DAYS * DAY_MS));
  return score;
}

/** The most counted name (ties: alphabetical), or null. */
export function favourite(counts: Record<string, number>): string | null {
  let best: string | null = null;
  for (const [name, n] of Object.entries(counts)) if (best === null || n > counts[best]! || (n === counts[best] && name < best)) best = name;
  return best;
}

/** As the profile document shows them (at `now`, for the engagement score). */
export function computedView(c: ComputedState, now: number) {
  const currencies = Object.keys(c.revenue).sort((x, y) => c.revenue[y]![0] - c.revenue[x]![0] || x.localeCompare(y));
  return {
    orderCount: c.orders,
    /** Per currency ("" when orders said none), in major units. */
    totalRevenue: Object.fromEntries(currencies.map((cur) => [cur, c.revenue[cur]![0] / 100])),
    /** Per currency: its revenue over its orders. */
    averageOrderValue: Object.fromEntries(currencies.map((cur) => [cur, Math.round(c.revenue[cur]![0] / c.revenue[cur]![1]) / 100])),
    /** The currency with the most revenue: what a single-currency reader should use. */
    currency: currencies[0] || null,
    firstOrderAt: c.firstOrderAt === null ? null : new Date(c.firstOrderAt).toISOString(),
    lastOrderAt: c.lastOrderAt === null ? null : new Date(c.lastOrderAt).toISOString(),
    engagementScore: Math.round(engagementAt(c.engagement, now) * 100) / 100,
    engagementAsOf: new Date(now).toISOString(),
    favouriteCategory: favourite(c.categories),
    favouriteBrand: favourite(c.brands),
  };
}
