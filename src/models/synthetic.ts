/**
 * A generated shop history with a planted signal, to validate the predictive models (and to give
 * `npm run train -- --generate N` something to learn from on an empty install). Deterministic
 * for a seed.
 *
 * Each shopper has a browsing rate (views per day, log-normal), buys on some of the days they
 * browse, and half of them stop coming back at some day (churn). So whether someone orders or is
 * seen again in the next 30 days depends on how much and how recently they browsed: what the
 * models' features measure, with the noise of real shoppers.
 */
import type { StoredEvent } from "../events/types";

const DAY_MS = 86_400_000;

/** mulberry32: a small, seeded generator (not for secrets). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  customers: number;
  seed?: number;
  /** Days of history before `now`. */
  days?: number;
  now?: number;
  /** Prefix of the generated userIds (and message ids): several sets can coexist. */
  prefix?: string;
}

/** Segment-spec events, oldest first, as the batch API accepts them (and as the pipeline stores them). */
export function syntheticHistory(options: SyntheticOptions): StoredEvent[] {
  const { customers, seed = 1, days = 150, now = Date.now(), prefix = `sim${seed}` } = options;
  const rnd = random(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const poisson = (mean: number) => {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = rnd(); u > s; k++) {
      p *= mean / (k + 1);
      s += p;
    }
    return k;
  };
  const today = Math.floor(now / DAY_MS);
  const events: StoredEvent[] = [];
  for (let i = 0; i < customers; i++) {
    const userId = `${prefix}-${i}`;
    const rate = Math.exp(-1.6 + 0.9 * normal());
    const buys = 0.1 + 0.2 * rnd();
    const firstDay = today - days + Math.floor(rnd() * (days - 60));
    const stopDay = rnd() < 0.5 ? firstDay + Math.floor(rnd() * (today - firstDay + 60)) : Infinity;
    let n = 0;
    const at = (day: number) => new Date(day * DAY_MS + Math.floor(rnd() * DAY_MS)).toISOString();
    const event = (day: number, e: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => {
      const timestamp = at(day);
      return { messageId: `${userId}-${n++}`, userId, timestamp, receivedAt: timestamp, sourceId: "synthetic", ...e };
    };
    events.push(event(firstDay, { type: "identify", traits: { email: `${userId}@example.com` } }));
    for (let day = firstDay; day <= today && day < stopDay; day++) {
      const views = poisson(rate);
      for (let v = 0; v < views; v++) events.push(event(day, { type: "track", event: "Product Viewed", properties: { product_id: `p${Math.floor(rnd() * 50)}`, price: 20 + Math.floor(rnd() * 80) } }));
      if (views > 0 && rnd() < buys) events.push(event(day, { type: "track", event: "Order Completed", properties: { order_id: `${userId}-o${day}`, revenue: 20 + Math.floor(rnd() * 150), currency: "USD" } }));
    }
  }
  // Only the past: a shopper's events up to now.
  return events.filter((e) => Date.parse(e.timestamp) <= now).sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}
