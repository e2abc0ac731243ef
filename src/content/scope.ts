/**
 * What a template sees (Liquid-style snake_case names). Pure: built from the profile document,
 * the recommendations and the render's own facts.
 *
 *   customer   id, user_id, email, first_name, last_name, name, traits, segments, event_count,
 *              first_seen_at, last_seen_at, events (counts by event name), content_token,
 *              computed (order_count, total_revenue, average_order_value, currency,
 *              first_order_at, last_order_at, engagement_score, favourite_category, favourite_brand,
 *              days_since_last_activity, days_since_last_order), scores (purchasePropensity,
 *              churnRisk, rfm, historicalClv, predictedClv…), computed_traits (custom, by id)
 *   cart       items (products with quantity), item_count, value, currency, updated_at,
 *              reserved_until (updated_at + CART_RESERVATION_MINUTES)
 *   session    session_count, last_activity_at, last_order_at, time_zone, device
 *   products   the block's own list (its `products` setting), each with `click_url` and `position`
 *   recommendations  recommended, recently_viewed, cart, purchased, popular
 *   block      id, version, pixel_url (the open pixel of this block for this customer, carrying
 *              the message ids the content was fetched with: docs/engagement.md);  now (ISO time);  locale
 *   experiment id, variant, slots (the variant's values: subject line, hero image…), pixel_url
 *              (the open pixel that records the exposure of an HTML block); null when no
 *              experiment runs on the block (docs/experiments.md)
 */
import type { CustomerProfile } from "../profiles/document";
import type { ProductCard, Recommendations } from "./recommendations";
import { ENGAGEMENT_HALF_LIFE_DAYS } from "../profiles/computed";

export interface ScopeInput {
  profile: CustomerProfile;
  recommendations: Recommendations;
  products: ProductCard[];
  /** The click-time link of product `i` of `products`. */
  clickUrl: (position: number) => string;
  contentToken: string;
  block: { id: string; version: number };
  /** This block's open pixel for the customer (and the message, when the content URL named it). */
  pixelUrl: string;
  /** The experiment variant this render shows. */
  experiment?: { id: string; variant: string; slots: Record<string, string>; pixel_url: string } | null;
  now: number;
  cartReservationMinutes: number;
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

const HALF_LIFE_MS = ENGAGEMENT_HALF_LIFE_DAYS * 86_400_000;

/** The computed traits in Liquid's naming, the engagement score decayed from the snapshot's time to now. */
function computedScope(profile: CustomerProfile, now: number) {
  const c = profile.computed;
  if (!c) return null;
  const elapsed = Math.max(0, now - Date.parse(c.engagementAsOf));
  return {
    order_count: c.orderCount,
    total_revenue: c.totalRevenue,
    average_order_value: c.averageOrderValue,
    currency: c.currency,
    first_order_at: c.firstOrderAt,
    last_order_at: c.lastOrderAt,
    engagement_score: Math.round(c.engagementScore * 2 ** (-elapsed / HALF_LIFE_MS) * 100) / 100,
    favourite_category: c.favouriteCategory,
    favourite_brand: c.favouriteBrand,
    // At render time, not as of the snapshot: a snapshot is rewritten only when the profile changes.
    days_since_last_activity: profile.lastSeenAt ? Math.floor(Math.max(0, now - Date.parse(profile.lastSeenAt)) / 86_400_000) : null,
    days_since_last_order: c.lastOrderAt ? Math.floor(Math.max(0, now - Date.parse(c.lastOrderAt)) / 86_400_000) : null,
  };
}

export function templateScope(input: ScopeInput): Record<string, unknown> {
  const { profile, recommendations: r, now } = input;
  const traits = profile.traits;
  const session = profile.session;
  const cartUpdated = session?.cart.updatedAt ? Date.parse(session.cart.updatedAt) : null;
  // A snapshot written before segments existed has none: no segments until its next write.
  const segments = Array.isArray(profile.segments) ? profile.segments : [];
  const locale = text(session?.device?.locale) ?? text(traits.locale) ?? "en-US";
  return {
    customer: {
      id: profile.id,
      user_id: profile.userId,
      email: profile.email,
      first_name: text(traits.firstName) ?? null,
      last_name: text(traits.lastName) ?? null,
      name: text(traits.name) ?? ([text(traits.firstName), text(traits.lastName)].filter(Boolean).join(" ") || null),
      traits,
      segments,
      event_count: profile.eventCount,
      events: profile.counters.events,
      first_seen_at: profile.firstSeenAt,
      last_seen_at: profile.lastSeenAt,
      content_token: input.contentToken,
      computed: computedScope(profile, now),
      // Predictive scores, RFM and lifetime value, and custom computed traits (docs/predictions.md).
      scores: profile.scores ?? null,
      computed_traits: profile.computedTraits ?? {},
    },
    cart: {
      items: r.cart,
      item_count: session?.cart.itemCount ?? 0,
      value: session?.cart.value ?? 0,
      currency: r.cart.find((i) => i.currency)?.currency ?? null,
      updated_at: session?.cart.updatedAt ?? null,
      reserved_until: cartUpdated === null ? null : new Date(cartUpdated + input.cartReservationMinutes * 60_000).toISOString(),
    },
    session: {
      session_count: session?.sessionCount ?? 0,
      last_activity_at: session?.lastActivityAt ?? null,
      last_order_at: session?.lastOrderAt ?? null,
      time_zone: session?.timeZone ?? null,
      device: session?.device ?? null,
    },
    products: input.products.map((p, i) => ({ ...p, position: i, click_url: input.clickUrl(i) })),
    recommendations: r,
    block: { ...input.block, pixel_url: input.pixelUrl },
    experiment: input.experiment ?? null,
    now: new Date(now).toISOString(),
    now_ms: now,
    locale,
  };
}
