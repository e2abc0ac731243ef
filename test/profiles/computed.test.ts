import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { applyComputed, computedView, emptyComputed, engagementAt, mergeComputed, orderRevenue } from "../../src/profiles/computed";
import { fetchUrl, linksOf, putBlock } from "../content-helpers";
import { admin, env, profileWhen, uid, runEverywhere } from "../helpers";

const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);

/** Storefront and email events over two years, the kinds computed traits read and a few they ignore. */
const anEvent = fc
  .record({
    kind: fc.constantFrom("Order Completed", "Product Viewed", "Product Added", "Email Opened", "Email Link Clicked", "page", "Signed Up"),
    day: fc.integer({ min: 0, max: 730 }),
    minute: fc.integer({ min: 0, max: 1439 }),
    category: fc.constantFrom("shirts", "shoes", "bags", undefined),
    brand: fc.constantFrom("Acme", "Zeta", undefined),
    currency: fc.constantFrom("EUR", "usd", "GBP", undefined, "€"),
    revenue: fc.option(fc.integer({ min: 0, max: 100_000 }).map((c) => c / 100), { nil: undefined }),
    lines: fc.array(fc.record({ price: fc.integer({ min: 0, max: 50_000 }).map((c) => c / 100), quantity: fc.integer({ min: 1, max: 3 }) }), { maxLength: 3 }),
  })
  .map(({ kind, day, minute, category, brand, currency, revenue, lines }): StoredEvent => {
    const timestamp = new Date(START + day * DAY + minute * 60_000).toISOString();
    const base = { messageId: crypto.randomUUID(), timestamp, receivedAt: timestamp, sourceId: "k" };
    if (kind === "page") return { ...base, type: "page" };
    const product = { product_id: "p", category, brand };
    const properties =
      kind === "Order Completed" ? { order_id: "o", currency, revenue, products: lines.map((l) => ({ ...product, ...l })) } : { ...product, price: lines[0]?.price };
    return { ...base, type: "track", event: kind, properties };
  });

/** The traits computed from scratch, the plain way: what the incremental state must always equal. */
function recompute(events: StoredEvent[], now: number) {
  const orders = events.filter((e) => e.event === "Order Completed");
  const revenue: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const o of orders) {
    const p = o.properties as { currency?: string; revenue?: number; products: { price: number; quantity: number }[] };
    const cents = p.revenue !== undefined ? Math.round(p.revenue * 100) : p.products.length > 0 ? p.products.reduce((n, l) => n + Math.round(l.price * 100) * l.quantity, 0) : null;
    if (cents === null) continue;
    const cur = p.currency && /^[A-Za-z]{3}$/.test(p.currency) ? p.currency.toUpperCase() : "";
    revenue[cur] = (revenue[cur] ?? 0) + cents;
    counts[cur] = (counts[cur] ?? 0) + 1;
  }
  const times = orders.map((o) => Date.parse(o.timestamp));
  const weights: Record<string, number> = { "Email Opened": 1, "Email Link Clicked": 3, "Product Viewed": 1, "Product Added": 2, "Order Completed": 5 };
  const newestDay = Math.max(...events.filter((e) => e.type === "page" || weights[e.event ?? ""]).map((e) => Math.floor(Date.parse(e.timestamp) / DAY)));
  let engagement = 0;
  for (const e of events) {
    const w = e.type === "page" ? 0.25 : (weights[e.event ?? ""] ?? 0);
    const day = Math.floor(Date.parse(e.timestamp) / DAY);
    if (w > 0 && day >= newestDay - 365) engagement += w * 2 ** (-Math.max(0, now - (day + 0.5) * DAY) / (30 * DAY));
  }
  const interest = (field: "category" | "brand") => {
    const n: Record<string, number> = {};
    for (const e of events) {
      const w = { "Product Viewed": 1, "Product Added": 2, "Order Completed": 3 }[e.event ?? ""];
      if (!w) continue;
      const products = e.event === "Order Completed" ? ((e.properties as { products: Record<string, unknown>[] }).products ?? []) : [e.properties ?? {}];
      for (const p of products) if (typeof p[field] === "string") n[p[field] as string] = (n[p[field] as string] ?? 0) + w;
    }
    return Object.entries(n).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
  };
  return {
    orderCount: orders.length,
    totalRevenue: Object.fromEntries(Object.entries(revenue).map(([c, v]) => [c, v / 100])),
    averageOrderValue: Object.fromEntries(Object.entries(revenue).map(([c, v]) => [c, Math.round(v / counts[c]!) / 100])),
    firstOrderAt: times.length ? new Date(Math.min(...times)).toISOString() : null,
    lastOrderAt: times.length ? new Date(Math.max(...times)).toISOString() : null,
    engagementScore: Math.round(engagement * 100) / 100,
    favouriteCategory: interest("category"),
    favouriteBrand: interest("brand"),
  };
}

const NOW = START + 800 * DAY;

describe("built-in computed traits", () => {
  it("kept incrementally, in any order and any batching, equal a full recomputation from the events", () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (events, shuffle, chunk) => {
        // Another order: sorted by the random keys; applied in batches of `chunk`, as consumer batches do.
        const order = events.map((e, i) => [shuffle[i] ?? i, e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e);
        let state = emptyComputed();
        for (let i = 0; i < order.length; i += chunk) state = applyComputed(state, order.slice(i, i + chunk));
        expect(state).toEqual(applyComputed(undefined, events));
        const view = computedView(state, NOW);
        const expected = recompute(events, NOW);
        expect({ ...view, currency: undefined, engagementAsOf: undefined, engagementScore: undefined }).toEqual({ ...expected, currency: undefined, engagementAsOf: undefined, engagementScore: undefined });
        expect(view.engagementScore).toBeCloseTo(expected.engagementScore, 1);
      }),
      { numRuns: 200 },
    );
  });

  it("two profiles merged equal one profile of all their events", () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 40 }), fc.array(anEvent, { maxLength: 40 }), (a, b) => {
        expect(mergeComputed(applyComputed(undefined, a), applyComputed(undefined, b))).toEqual(applyComputed(undefined, [...a, ...b]));
        expect(mergeComputed(applyComputed(undefined, b), applyComputed(undefined, a))).toEqual(applyComputed(undefined, [...a, ...b]));
      }),
      { numRuns: 200 },
    );
  });

  it("reads revenue from revenue, else total, else the order lines, in cents", () => {
    expect(orderRevenue({ revenue: 19.99, total: 25 })).toBe(1999);
    expect(orderRevenue({ total: "25.5" })).toBe(2550);
    expect(orderRevenue({ products: [{ price: 0.1, quantity: 3 }, { price: 0.2 }] })).toBe(50);
    expect(orderRevenue({})).toBeNull();
  });

  it("halves engagement every 30 days", () => {
    const day = Math.floor(NOW / DAY);
    const days = { [String(day)]: 4 };
    const noon = (day + 0.5) * DAY;
    expect(engagementAt(days, noon)).toBe(4);
    expect(engagementAt(days, noon + 30 * DAY)).toBeCloseTo(2, 10);
    expect(engagementAt(days, noon + 60 * DAY)).toBeCloseTo(1, 10);
  });
});

describe("computed traits in the profile and in templates", () => {
  it("appear in GET /v1/customers/{id} and in content blocks, kept up to date by the pipeline", async () => {
    const userId = uid("buyer");
    const at = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(1), receivedAt: at(0), sourceId: "k", ...p });
    await processEvents(env, [
      ev({ type: "track", userId, event: "Order Completed", properties: { revenue: 40, currency: "EUR", products: [{ product_id: "a", category: "shoes", brand: "Acme" }] }, timestamp: at(48) }),
      ev({ type: "track", userId, event: "Product Viewed", properties: { product_id: "b", category: "bags", brand: "Zeta" } }),
    ]);
    // A later batch: the traits move on from where they were, no rescan.
    await processEvents(env, [ev({ type: "track", userId, event: "Order Completed", properties: { total: 20, currency: "eur" }, timestamp: at(2) })]);
    const profile = await profileWhen(userId, (p) => p.computed?.orderCount === 2);
    expect(profile.computed).toMatchObject({ orderCount: 2, totalRevenue: { EUR: 60 }, averageOrderValue: { EUR: 30 }, currency: "EUR", favouriteCategory: "shoes", favouriteBrand: "Acme" });
    expect(profile.computed.engagementScore).toBeGreaterThan(10);
    const block = uid("loyal");
    expect((await putBlock(block, { html: "{{ customer.computed.order_count }} orders, {{ customer.computed.total_revenue.EUR | money: customer.computed.currency }}, likes {{ customer.computed.favourite_category }}, last order {{ customer.computed.days_since_last_order }} days ago, first {{ customer.computed.first_order_at | date: '%Y-%m-%d' }}" })).status).toBe(201);
    const firstOrder = new Date(Date.now() - 48 * 3_600_000).toISOString().slice(0, 10);
    expect(await (await fetchUrl((await linksOf(block, userId)).token.html)).text()).toBe(`2 orders, €60.00, likes shoes, last order 0 days ago, first ${firstOrder}`);
  });
});

describe("profiles stored before computed traits existed", () => {
  it("get them from all their stored events at their next event, not from that event alone", async () => {
    const userId = uid("legacy");
    const order = (h: number): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date(Date.now() - h * 3_600_000).toISOString(), receivedAt: new Date().toISOString(), sourceId: "k", type: "track", userId, event: "Order Completed", properties: { revenue: 10, currency: "EUR" } });
    await processEvents(env, [order(30), order(20)]);
    // What a row written by the previous version looks like: no computed traits.
    await runEverywhere("UPDATE customers SET computed = NULL WHERE identity_keys LIKE ?", `%user_id:${userId}%`);
    await processEvents(env, [order(1)]);
    const profile = await profileWhen(userId, (p) => p.eventCount === 3);
    expect(profile.computed).toMatchObject({ orderCount: 3, totalRevenue: { EUR: 30 } });
  });
});

describe("backfill of old profiles no event touches", () => {
  it("derives their computed traits from all their events, snapshots included, without touching others", async () => {
    const order = (userId: string, h: number): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date(Date.now() - h * 3_600_000).toISOString(), receivedAt: new Date().toISOString(), sourceId: "k", type: "track", userId, event: "Order Completed", properties: { revenue: 25, currency: "USD" } });
    const dormant = uid("dormant");
    const served = uid("served");
    await processEvents(env, [order(dormant, 100), order(dormant, 90), order(served, 80)]);
    // The served one has a KV snapshot (and a session object) that must show the traits too.
    const before = await profileWhen(served, (p) => p.computed?.orderCount === 1);
    for (const userId of [dormant, served]) await runEverywhere("UPDATE customers SET computed = NULL WHERE identity_keys LIKE ?", `%user_id:${userId}%`);
    const res = await admin("/v1/admin/computed-traits/backfill", { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ started: true });
    const dormantProfile = await profileWhen(dormant, (p) => p.computed?.orderCount === 2);
    expect(dormantProfile.computed.totalRevenue).toEqual({ USD: 50 });
    // The snapshot was rewritten (one version up), by the session object that orders its writes.
    await profileWhen(served, (p) => p.version === before.version + 1 && p.computed?.orderCount === 1);
    expect(await (await admin("/v1/admin/computed-traits/backfill", { method: "POST" })).json()).toEqual({ started: false });
  });
});
