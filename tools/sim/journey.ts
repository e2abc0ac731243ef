/**
 * One shopper's journey, day by day from their first visit to the end of the simulated time
 * (which runs past `now`, into the hidden future the ground truth is read from).
 *
 * Each shopper has a latent intent (how likely a visit turns into a cart and an order) and a
 * return rate (visits per day). The first visit is anonymous. A visit may sign them up; a cart
 * that reaches checkout signs them up or makes them a guest (an identify without userId). A
 * checkout is completed or abandoned; signed-up shoppers get the weekly newsletter and a reminder
 * the day after an abandoned checkout, which they may open and click (a click is a visit). After
 * the first visit many never come back; later, each visit and each day carries a chance of
 * lapsing for good: a lapsed shopper neither visits nor opens emails (churn). Seasonality scales
 * return visits and, by its square root, orders.
 */
import { CATALOG, CATEGORY_NAMES, productsIn, type SimProduct } from "./catalog.ts";
import { browser, orderProperties, pageOf, productProperties, traitsOf, userAgent, USER_AGENT_WEIGHTS, type Line, type Timed, type Visitor } from "./messages.ts";
import type { Person } from "./people.ts";
import type { Rng } from "./random.ts";
import { DAY_MS, isBlackFridayWeekend, seasonality } from "./season.ts";

/** The behaviour model's parameters (docs/simulate.md explains each). `intent` is in (0, 1). */
export const BEHAVIOUR = {
  /** intent = logistic(spread × N(0,1) + centre): most shoppers low, a few keen. */
  intent: { centre: -1.2, spread: 1.4 },
  /** Chance of never coming back after the first visit, from intent 0 to intent 1. */
  bounce: [0.7, 0.25],
  /** Return visits per day: median, spread (σ of its log), times (0.5 + intent); capped. */
  returnRate: { median: 0.05, sigma: 1.0, max: 0.8 },
  /** Chance of lapsing for good after each return visit (halved once they have ordered), and on any day. */
  lapse: { perVisit: 0.05, perDay: 0.003 },
  /** Product views per visit: 1 + Poisson(base + perIntent × intent). */
  views: { base: 1, perIntent: 3 },
  signUpPerVisit: { base: 0.04, perIntent: 0.1 },
  addToCart: { base: 0.06, perIntent: 0.5 },
  checkout: 0.65,
  /** At checkout, without an account: sign up, or else check out as a guest. */
  signUpAtCheckout: 0.6,
  /** A checkout becomes an order: (base + perIntent × intent) × √seasonality, at most 0.95. */
  order: { base: 0.3, perIntent: 0.6, max: 0.95 },
  /** Newsletter on Tuesdays at 09:00 UTC; opens (base + perIntent × intent), clicks among opens. */
  newsletter: { weekday: 2, hour: 9, open: { base: 0.05, perIntent: 0.5 }, click: 0.2 },
  /** Reminder at 10:00 UTC the day after an abandoned checkout. */
  reminder: { hour: 10, open: 0.45, click: 0.35 },
  /** Black Friday weekend coupon. */
  blackFridayCoupon: { code: "BLACKFRIDAY", percent: 20 },
  /** Visits by hour of day (UTC), midnight first: evenings are busiest. */
  hours: [2, 1, 1, 1, 1, 1, 2, 4, 5, 6, 6, 6, 7, 7, 6, 6, 6, 7, 8, 10, 11, 10, 7, 4],
} as const;

export interface JourneyPlan {
  index: number;
  prefix: string;
  person: Person;
  arrivalDay: number;
  /** Nothing after this instant is generated (`now` + the future window). */
  endAt: number;
  flat: boolean;
}

export interface JourneyOutcome {
  events: Timed[];
  userId: string;
  anonymousId: string;
  /** When the shopper first gave their details (sign-up or guest checkout), if ever. */
  identifiedAt: number | null;
  /** When they first gave their postal address, if ever. */
  addressAt: number | null;
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const HOUR_MS = 3_600_000;

export function journey(rng: Rng, plan: JourneyPlan): JourneyOutcome {
  const B = BEHAVIOUR;
  const intent = logistic(B.intent.spread * rng.normal() + B.intent.centre);
  const returnRate = Math.min(B.returnRate.max, B.returnRate.median * Math.exp(B.returnRate.sigma * rng.normal()) * (0.5 + intent));
  const favourite = productsIn(rng.pick(CATEGORY_NAMES));
  const userId = `${plan.prefix}-u${plan.index}`;
  const visitor: Visitor = { anonymousId: `${plan.prefix}-anon-${plan.index}`, userAgent: userAgent(rng.weighted(USER_AGENT_WEIGHTS)), locale: plan.person.locale };
  const events: Timed[] = [];
  // Cast, not annotated: the closures below change it, and TypeScript would narrow an annotated
  // `let` to its first value in the day loop.
  let status = "anonymous" as "anonymous" | "guest" | "registered";
  let identifiedAt: number | null = null;
  let addressAt: number | null = null;
  let orders = 0;
  let lapsed = false;
  let cart: Line[] = [];
  let reminderDay = -1;

  const push = (at: number, message: Timed["message"]) => events.push({ at, message });
  // 60% of views in the favourite category, its first products most (the square of a uniform
  // draw favours low indices); the rest anywhere in the catalog.
  const product = (): SimProduct => (rng.chance(0.6) ? favourite[Math.floor(favourite.length * rng.next() ** 2)]! : CATALOG[rng.int(CATALOG.length)]!);

  const identify = (at: number, register: boolean) => {
    const withAddress = addressAt !== null || !register || rng.chance(0.6);
    if (withAddress) addressAt ??= at;
    if (register) {
      visitor.userId = userId;
      push(at, browser(visitor, { type: "identify", traits: { ...traitsOf(plan.person, withAddress), createdAt: new Date(at).toISOString() } }));
    } else push(at, browser(visitor, { type: "identify", traits: traitsOf(plan.person, true) }));
    status = register ? "registered" : "guest";
    identifiedAt ??= at;
  };

  const session = (day: number, source: "search" | "direct" | "ad" | "email", startAt?: number) => {
    let t = startAt ?? day * DAY_MS + rng.weighted(B.hours) * HOUR_MS + rng.int(HOUR_MS);
    const step = () => (t += 10_000 + rng.int(80_000));
    const referrer = { search: "https://www.google.com/", ad: "https://www.instagram.com/", direct: undefined, email: undefined }[source];
    const landing = source === "email" ? ["Newsletter picks", "/picks?utm_source=newsletter"] : rng.chance(0.5) ? ["Home", "/"] : ["Category", `/c/${favourite[0]!.category}`];
    push(t, pageOf(visitor, landing[0]!, landing[1]!, referrer));
    const viewed: SimProduct[] = [];
    for (let v = 1 + rng.poisson(B.views.base + B.views.perIntent * intent); v > 0; v--) {
      const p = product();
      viewed.push(p);
      push(step(), browser(visitor, { type: "track", event: "Product Viewed", properties: productProperties(p) }));
    }
    if (status !== "registered" && rng.chance(B.signUpPerVisit.base + B.signUpPerVisit.perIntent * intent)) identify(step(), true);
    if (rng.chance((B.addToCart.base + B.addToCart.perIntent * intent) * (source === "email" ? 1.3 : 1))) {
      for (let k = rng.chance(0.3) ? 2 : 1; k > 0; k--) {
        const line = { product: rng.pick(viewed), quantity: rng.chance(0.85) ? 1 : 2 };
        cart.push(line);
        push(step(), browser(visitor, { type: "track", event: "Product Added", properties: { ...productProperties(line.product, line.quantity), cart_id: `${visitor.anonymousId}-cart` } }));
      }
    }
    if (cart.length === 0 || !rng.chance(B.checkout)) return;
    if (status === "anonymous") identify(step(), rng.chance(B.signUpAtCheckout));
    const checkoutId = `${plan.prefix}-${plan.index}-c${Math.floor(t / 1000)}`;
    const checkout = orderProperties(cart, { checkout_id: checkoutId });
    push(step(), browser(visitor, { type: "track", event: "Checkout Started", properties: { ...checkout, value: checkout.revenue } }));
    if (!rng.chance(Math.min(B.order.max, (B.order.base + B.order.perIntent * intent) * Math.sqrt(seasonality(day, plan.flat))))) {
      if (status === "registered") reminderDay = day + 1;
      return;
    }
    if (addressAt === null) {
      addressAt = step();
      push(addressAt, browser(visitor, { type: "identify", traits: { address: plan.person.address } }));
    }
    const coupon = isBlackFridayWeekend(day) && !plan.flat ? B.blackFridayCoupon : undefined;
    push(step(), browser(visitor, { type: "track", event: "Order Completed", properties: orderProperties(cart, { order_id: `${plan.prefix}-${plan.index}-o${orders}`, checkout_id: checkoutId }, coupon) }));
    orders += 1;
    cart = [];
  };

  /** An email sent at `sentAt`: maybe opened, maybe clicked (a visit from the email). */
  const email = (day: number, sentAt: number, campaign: { id: string; name: string; subject: string }, open: number, click: number) => {
    if (lapsed || !rng.chance(open)) return;
    const openedAt = sentAt + Math.floor(rng.exponential(4 * HOUR_MS));
    const properties = { email_id: `${campaign.id}-${plan.index}`, campaign_id: campaign.id, campaign_name: campaign.name, email_subject: campaign.subject };
    push(openedAt, { type: "track", userId, event: "Email Opened", properties });
    if (!rng.chance(click)) return;
    const clickedAt = openedAt + 30_000 + rng.int(10 * 60_000);
    push(clickedAt, { type: "track", userId, event: "Email Link Clicked", properties: { ...properties, link_url: "https://shop.example/picks" } });
    session(day, "email", clickedAt + 5_000);
  };

  const lastDay = Math.floor((plan.endAt - 1) / DAY_MS);
  for (let day = plan.arrivalDay; day <= lastDay; day++) {
    const season = seasonality(day, plan.flat);
    if (day === plan.arrivalDay) {
      session(day, rng.pick(["search", "direct", "ad"] as const));
      lapsed = rng.chance(B.bounce[0] + (B.bounce[1] - B.bounce[0]) * intent);
      continue;
    }
    lapsed ||= rng.chance(B.lapse.perDay);
    if (status === "registered") {
      if (new Date(day * DAY_MS).getUTCDay() === B.newsletter.weekday) {
        const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
        email(day, day * DAY_MS + B.newsletter.hour * HOUR_MS, { id: `newsletter-${date}`, name: "Weekly picks", subject: `This week's picks (${date})` }, B.newsletter.open.base + B.newsletter.open.perIntent * intent, B.newsletter.click);
      }
      if (day === reminderDay && cart.length > 0) email(day, day * DAY_MS + B.reminder.hour * HOUR_MS, { id: `cart-reminder-${day}`, name: "Cart reminder", subject: "You left something in your cart" }, B.reminder.open, B.reminder.click);
    }
    if (!lapsed && rng.chance(Math.min(B.returnRate.max, returnRate * season))) {
      session(day, rng.pick(["search", "direct", "direct", "ad"] as const));
      lapsed = rng.chance(B.lapse.perVisit * (orders > 0 ? 0.5 : 1));
    }
  }
  return { events: events.filter((e) => e.at <= plan.endAt), userId, anonymousId: visitor.anonymousId, identifiedAt, addressAt };
}

/** A short account-less visit ending in a guest checkout: how planted look-alikes show up. */
export function guestVisit(rng: Rng, day: number, anonymousId: string, person: Person, orderId: string): Timed[] {
  const events: Timed[] = [];
  const visitor: Visitor = { anonymousId, userAgent: userAgent(rng.weighted(USER_AGENT_WEIGHTS)), locale: person.locale };
  let t = day * DAY_MS + rng.weighted(BEHAVIOUR.hours) * HOUR_MS + rng.int(HOUR_MS);
  const step = () => (t += 10_000 + rng.int(80_000));
  events.push({ at: t, message: pageOf(visitor, "Home", "/", undefined) });
  const lines: Line[] = [];
  for (let v = 1 + rng.int(3); v > 0; v--) {
    const p = CATALOG[rng.int(CATALOG.length)]!;
    events.push({ at: step(), message: browser(visitor, { type: "track", event: "Product Viewed", properties: productProperties(p) }) });
    if (lines.length === 0 || rng.chance(0.3)) {
      lines.push({ product: p, quantity: 1 });
      events.push({ at: step(), message: browser(visitor, { type: "track", event: "Product Added", properties: productProperties(p, 1) }) });
    }
  }
  events.push({ at: step(), message: browser(visitor, { type: "identify", traits: traitsOf(person, true) }) });
  const checkout = orderProperties(lines, { checkout_id: `${orderId}-c` });
  events.push({ at: step(), message: browser(visitor, { type: "track", event: "Checkout Started", properties: { ...checkout, value: checkout.revenue } }) });
  if (rng.chance(0.6)) events.push({ at: step(), message: browser(visitor, { type: "track", event: "Order Completed", properties: orderProperties(lines, { order_id: orderId, checkout_id: `${orderId}-c` }) }) });
  return events;
}
