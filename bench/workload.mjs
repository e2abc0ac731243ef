// A deterministic storefront workload: shoppers arrive, browse anonymously, some sign in, add to
// cart and buy. A few hundred sessions are active at once and their events interleave, as they
// do on a real storefront, so a consumer batch sees several events of the same shopper but far
// from all of them.

// mulberry32, shared with the traffic simulator (tools/sim/).
import { random as rng } from "../tools/sim/random.ts";
import { CATALOG } from "../tools/sim/catalog.ts";
import { simulate } from "../tools/sim/simulate.ts";
export { rng };

const PRODUCTS = Array.from({ length: 200 }, (_, i) => ({ product_id: `sku-${i}`, name: `Product ${i}`, category: ["shirts", "shoes", "bags", "hats"][i % 4], price: 10 + (i % 90) }));
const context = (anonymousId) => ({
  library: { name: "analytics.js", version: "5.2.0" },
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
  page: { url: `https://shop.example/products?ref=${anonymousId.slice(0, 6)}`, referrer: "https://www.google.com/" },
  locale: "en-GB",
});

/** The events of one shopping session, in order. */
function session(i, random, t0) {
  const anonymousId = `anon-${i}`;
  const identified = random() < 0.4;
  const userId = identified ? `user-${i}` : undefined;
  const out = [];
  let t = t0;
  const push = (m) => {
    t += 1000 + Math.floor(random() * 20_000);
    out.push({ ...m, anonymousId, ...(m.userId ? {} : userId && out.some((e) => e.type === "identify") ? { userId } : {}), messageId: `${i}-${out.length}`, timestamp: new Date(t).toISOString(), context: context(anonymousId) });
  };
  push({ type: "page", name: "Home", properties: { path: "/" } });
  const views = 2 + Math.floor(random() * 5);
  for (let v = 0; v < views; v++) push({ type: "track", event: "Product Viewed", properties: PRODUCTS[Math.floor(random() * PRODUCTS.length)] });
  if (identified) push({ type: "identify", userId, traits: { email: `shopper${i}@example.com`, firstName: `Shopper${i}`, plan: random() < 0.2 ? "vip" : "regular" } });
  if (random() < 0.3) {
    const p = PRODUCTS[Math.floor(random() * PRODUCTS.length)];
    push({ type: "track", event: "Product Added", properties: { ...p, quantity: 1 } });
    push({ type: "track", event: "Checkout Started", properties: { value: p.price, currency: "EUR" } });
    if (random() < 0.5) push({ type: "track", event: "Order Completed", properties: { order_id: `o-${i}`, revenue: p.price, currency: "EUR", products: [p] } });
  }
  return out;
}

/**
 * About `events` events from interleaved sessions, `active` sessions at a time.
 * @returns {{ events: object[], customers: number, identified: string[] }}
 */
export function storefrontEvents({ events: target, active = 300, seed = 42 }) {
  const random = rng(seed);
  const out = [];
  const open = [];
  let next = 0;
  const t0 = Date.UTC(2026, 10, 1);
  const identified = [];
  const refill = () => {
    while (open.length < active) {
      open.push(session(next, random, t0 + next * 1000));
      next += 1;
    }
  };
  refill();
  while (out.length < target) {
    const k = Math.floor(random() * open.length);
    const s = open[k];
    const e = s.shift();
    if (e.type === "identify") identified.push(e.userId);
    out.push(e);
    if (s.length === 0) {
      open.splice(k, 1);
      refill();
    }
  }
  return { events: out, customers: next, identified };
}

/**
 * About `events` events of the traffic simulator (tools/sim/, `rapport simulate`), for
 * `BENCH_WORKLOAD=simulated`: 90 days of a shop before a fixed day, each shopper's whole history
 * in a row (as an import or a backfill sends it, not interleaved like `storefrontEvents`), whole
 * shoppers only.
 * @returns {{ events: object[], customers: number, identified: string[] }}
 */
export function simulatedEvents({ events: target, seed = 42 }) {
  const out = [];
  const identified = [];
  let customers = 0;
  for (const shopper of simulate({ customers: Number.MAX_SAFE_INTEGER, days: 90, seed, now: Date.UTC(2026, 10, 1), prefix: `bench${seed}` })) {
    if (out.length >= target) break;
    customers += 1;
    for (const m of shopper.messages) out.push(m);
    if (shopper.truth.userId) identified.push(shopper.truth.userId);
  }
  return { events: out, customers, identified };
}

/**
 * Live traffic from the traffic simulator (tools/sim/): the whole histories of the first shoppers
 * that make about `events` events (new and returning shoppers, page and product views, carts,
 * checkouts, orders, identifies, email opens and clicks), interleaved in time order as a shop
 * receives them, and their 90 days compressed into the `windowMs` before `now`. Live, so the
 * triggers' timers are pending (a 48-hour wait from an event three months old would be neither
 * pending nor sendable), and the order is the order of real time, so a shopper's events are spread
 * over the run, in many consumer batches, as returning shoppers' are.
 * @returns {{ events: object[], customers: number, identified: string[] }}
 */
export function liveTraffic({ events: target, seed = 42, windowMs = 3_600_000, now = Date.now() }) {
  const { events, customers, identified } = simulatedEvents({ events: target, seed });
  const times = events.map((e) => Date.parse(e.timestamp));
  const first = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - first);
  const order = events.map((_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
  const live = order.map((i) => ({ ...events[i], timestamp: new Date(now - windowMs + Math.round(((times[i] - first) / span) * windowMs)).toISOString() }));
  return { events: live, customers, identified };
}

/** The simulator's catalog as the catalog API takes it (every tenth product sold out, as in the storefront workload's). */
export const simulatedCatalog = () => CATALOG.map((p, i) => ({ product_id: p.product_id, name: p.name, price: p.price, currency: "EUR", url: p.url, image_url: p.image_url, in_stock: i % 10 !== 9 }));

/**
 * The returning shoppers of the bench's phase 3: the workload's first events again, with new
 * message ids, a day later, or moved to end at `endAt` (live traffic: they come back now). A fifth
 * of the workload, at least 1,000 events (as far as it has them).
 */
export function returningEvents(events, { endAt } = {}) {
  const count = Math.min(events.length, Math.max(1000, Math.floor(events.length / 5)));
  const copied = events.slice(0, count);
  const shift = endAt === undefined ? 86_400_000 : endAt - Math.max(...copied.map((e) => Date.parse(e.timestamp)));
  return copied.map((e) => ({ ...e, messageId: `r-${e.messageId}`, timestamp: new Date(Date.parse(e.timestamp) + shift).toISOString() }));
}
