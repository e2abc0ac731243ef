import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { eraseCustomer } from "../../src/privacy/erase";
import { TriggerDefinition } from "../../src/triggers/definition";
import { activeTriggers, deleteTrigger, saveTrigger } from "../../src/triggers/store";
import { applyToSession, emptySession, mergeSessions } from "../../src/sessions/state";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { env, eventually, getCustomer, profileWhen, uid } from "../helpers";

const MIN = 60_000;
const base = Date.now() - 3 * 60 * MIN;
const at = (minutes: number) => new Date(base + minutes * MIN).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(0), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });
const viewed = (who: Partial<StoredEvent>, product: string, minute: number, extra: Record<string, unknown> = {}) =>
  ev({ type: "track", ...who, event: "Product Viewed", timestamp: at(minute), properties: { product_id: product, name: `Product ${product}`, price: 10, ...extra } });
const added = (who: Partial<StoredEvent>, product: string, minute: number, quantity = 1) =>
  ev({ type: "track", ...who, event: "Product Added", timestamp: at(minute), properties: { product_id: product, price: 25, quantity } });

const options = { timeoutMs: 30 * MIN, recentViewsMax: 3 };

describe("session state (pure)", () => {
  it("opens a new session after 30 minutes without activity, and counts late events without reopening", () => {
    const who = { userId: "u" };
    const { state } = applyToSession(emptySession(), [ev({ type: "page", ...who, timestamp: at(0) }), ev({ type: "page", ...who, timestamp: at(20) }), ev({ type: "page", ...who, timestamp: at(55) })], options);
    expect(state.sessionCount).toBe(2);
    expect(state.current?.startedAt).toBe(Date.parse(at(55)));
    const late = applyToSession(state, [ev({ type: "page", ...who, timestamp: at(10) })], options).state;
    expect(late.sessionCount).toBe(2);
    expect(late.current?.startedAt).toBe(Date.parse(at(55)));
  });

  it("keeps the last N viewed products, newest first, one entry per product", () => {
    const who = { userId: "u" };
    const { state } = applyToSession(emptySession(), ["a", "b", "a", "c", "d"].map((p, i) => viewed(who, p, i)), options);
    expect(state.recentViews.map((v) => v.productId)).toEqual(["d", "c", "a"]);
  });

  it("follows the cart through adds, removals, a checkout and an order", () => {
    const who = { userId: "u" };
    let { state } = applyToSession(emptySession(), [added(who, "a", 1), added(who, "a", 2, 2), added(who, "b", 3)], options);
    expect(state.cart.items.map((i) => [i.productId, i.quantity])).toEqual([["a", 3], ["b", 1]]);
    ({ state } = applyToSession(state, [ev({ type: "track", ...who, event: "Product Removed", timestamp: at(4), properties: { product_id: "a", quantity: 1 } })], options));
    expect(state.cart.items.map((i) => [i.productId, i.quantity])).toEqual([["a", 2], ["b", 1]]);
    ({ state } = applyToSession(state, [ev({ type: "track", ...who, event: "Checkout Started", timestamp: at(5), properties: { products: [{ product_id: "b", quantity: 4, price: 5 }] } })], options));
    expect(state.cart.items.map((i) => [i.productId, i.quantity])).toEqual([["b", 4]]);
    ({ state } = applyToSession(state, [ev({ type: "track", ...who, event: "Order Completed", timestamp: at(6), properties: { order_id: "o1" } })], options));
    expect(state.cart.items).toEqual([]);
    expect(state.lastOrderAt).toBe(Date.parse(at(6)));
  });

  it("skips events it has already applied (redelivery)", () => {
    const events = [added({ userId: "u" }, "a", 1)];
    const once = applyToSession(emptySession(), events, options).state;
    const twice = applyToSession(once, events, options);
    expect(twice.applied).toEqual([]);
    expect(twice.state.cart.items[0]?.quantity).toBe(1);
  });

  it("a visit opened by the storefront tag's page view knows its landing page and referrer (sent in context.page)", () => {
    // The tag sends `properties: {}` and the page in `context.page`, as analytics.js does.
    const { state } = applyToSession(emptySession(), [ev({ type: "page", anonymousId: "a", timestamp: at(0), properties: {}, context: { page: { url: "https://shop.test/sale", path: "/sale", referrer: "https://news.test/" } } })], options);
    expect(state.current).toMatchObject({ landingPage: "https://shop.test/sale", referrer: "https://news.test/" });
    // Properties, when they say it, win over context.page.
    const both = applyToSession(emptySession(), [ev({ type: "page", anonymousId: "b", timestamp: at(0), properties: { url: "https://shop.test/a" }, context: { page: { url: "https://shop.test/b", referrer: "https://r.test/" } } })], options).state;
    expect(both.current).toMatchObject({ landingPage: "https://shop.test/a", referrer: "https://r.test/" });
  });

  it("merges two sessions: views and carts united, newest context wins", () => {
    const a = applyToSession(emptySession(), [viewed({ userId: "a" }, "x", 1), added({ userId: "a" }, "x", 2)], options).state;
    const b = applyToSession(emptySession(), [viewed({ anonymousId: "b" }, "y", 5), added({ anonymousId: "b" }, "y", 6), ev({ type: "page", anonymousId: "b", timestamp: at(7), context: { timezone: "Europe/Paris" } })], options).state;
    const merged = mergeSessions(a, b, options);
    expect(merged.recentViews.map((v) => v.productId)).toEqual(["y", "x"]);
    expect(merged.cart.items.map((i) => i.productId).sort()).toEqual(["x", "y"]);
    expect(merged.timeZone).toBe("Europe/Paris");
    expect(merged.sessionCount).toBe(2);
    expect(mergeSessions(b, a, options)).toEqual(merged);
  });
});

describe("CustomerSession fed by the pipeline", () => {
  it("shows the live session under `session` in GET /v1/customers/{id}", async () => {
    const userId = uid();
    const who = { userId };
    await processEvents(env, [
      ev({ type: "page", ...who, timestamp: at(0), properties: { url: "https://shop.test/", path: "/", title: "Home", referrer: "https://search.test/" }, context: { userAgent: "Mozilla/5.0", timezone: "Europe/Berlin", locale: "de-DE", device: { type: "mobile" } } }),
      viewed(who, "sku-1", 1, { url: "https://shop.test/p/1", image_url: "https://cdn.test/1.jpg" }),
      added(who, "sku-1", 2, 2),
    ]);
    const profile = await profileWhen(userId, (p) => p.session !== null);
    expect(profile.session.current).toMatchObject({ startedAt: at(0), lastActivityAt: at(2), events: 3, pageViews: 1, landingPage: "https://shop.test/", referrer: "https://search.test/" });
    expect(profile.session.current.expiresAt).toBe(new Date(Date.parse(at(2)) + 30 * MIN).toISOString());
    expect(profile.session.recentViews).toEqual([{ productId: "sku-1", name: "Product sku-1", price: 10, url: "https://shop.test/p/1", imageUrl: "https://cdn.test/1.jpg", viewedAt: at(1) }]);
    expect(profile.session.cart).toMatchObject({ itemCount: 2, value: 50, items: [{ productId: "sku-1", quantity: 2 }] });
    expect(profile.session.device).toEqual({ userAgent: "Mozilla/5.0", type: "mobile", os: null, locale: "de-DE" });
    expect(profile.session.timeZone).toBe("Europe/Berlin");

    // Once served, the KV snapshot carries the session too, and follows new events.
    await processEvents(env, [added(who, "sku-2", 3)]);
    const fresh = await eventually(async () => {
      const res = await getCustomer(userId);
      const body = (await res.json()) as any;
      return res.headers.get("x-rapport-source") === "kv" && body.session.cart.itemCount === 3 && body;
    }, "the snapshot with the new cart");
    expect(fresh.session.cart.items.map((i: any) => i.productId)).toEqual(["sku-1", "sku-2"]);
  });

  it("does not call a session object for a visitor nobody reads and no trigger concerns, yet shows the session at the first read", async () => {
    const anonymousId = uid("anon");
    const who = { anonymousId };
    const stats = await processEvents(env, [ev({ type: "page", ...who, timestamp: at(0), properties: { url: "https://shop.test/" } }), viewed(who, "v-1", 1), added(who, "v-1", 2)]);
    expect(stats.sessionCalls).toBe(0);
    const later = await processEvents(env, [added(who, "v-2", 3)]);
    expect(later.sessionCalls).toBe(0);
    // Derived from the stored events by the object the first read starts.
    const profile = await profileWhen(`anonymous_id:${anonymousId}`, (p) => p.session !== null);
    expect(profile.session.cart.items.map((i: any) => i.productId)).toEqual(["v-1", "v-2"]);
    expect(profile.session.recentViews.map((v: any) => v.productId)).toEqual(["v-1"]);
    expect(profile.session.current.events).toBe(4);
    // Served now: from here on the pipeline keeps it fresh.
    expect((await processEvents(env, [added(who, "v-3", 4)])).sessionCalls).toBe(1);
  });

  it("starts a customer's object with its whole history when a trigger first concerns it", async () => {
    const userId = uid();
    await processEvents(env, [added({ userId }, "early", 1)]);
    // A trigger on an event name only this test sends, saved straight into D1.
    const name = `Seeded ${userId}`;
    const def = TriggerDefinition.parse({ name, start: { event: name }, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" } });
    const id = uid("seed").toLowerCase();
    await saveTrigger(env.DB, id, def);
    try {
      expect((await activeTriggers(env.DB)).some((t) => t.id === id)).toBe(true);
      const stats = await processEvents(env, [ev({ type: "track", userId, event: name, timestamp: at(5) })]);
      expect(stats.sessionCalls).toBe(1);
      const customerId = (await profileWhen(userId, () => true)).id;
      const state = await runInDurableObject(env.SESSIONS.getByName(customerId), async (instance: CustomerSession) => ({ view: await instance.view(), triggers: await instance.triggers() }));
      expect(state.view.cart.items.map((i) => i.productId)).toEqual(["early"]);
      expect(state.view.current?.events).toBe(2);
      expect(state.triggers.timers.map((t) => t.trigger_id)).toEqual([id]);
    } finally {
      await deleteTrigger(env.DB, id);
    }
  });

  it("takes a timer due past 2189 (an event dated 9999 from a pack older than ingest's time rule) without failing the call", async () => {
    const userId = uid();
    const name = `Far ${userId}`;
    const def = TriggerDefinition.parse({ name, start: { event: name }, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" } });
    const id = uid("far").toLowerCase();
    await saveTrigger(env.DB, id, def);
    try {
      // processEvents is the consumer's core, after ingest: the event keeps its year 9999.
      const stats = await processEvents(env, [ev({ type: "track", userId, event: name, timestamp: "9999-12-31T23:59:59.000Z" })]);
      expect(stats.sessionCalls).toBe(1);
      const customerId = (await profileWhen(userId, () => true)).id;
      const state = await runInDurableObject(env.SESSIONS.getByName(customerId), async (instance: CustomerSession, ctx) => ({ triggers: await instance.triggers(), alarm: await ctx.storage.getAlarm() }));
      expect(state.triggers.timers.map((t) => t.trigger_id)).toEqual([id]);
      // Woken within ten years, to set the alarm again then.
      expect(state.alarm).toBeLessThanOrEqual(Date.now() + 10 * 366 * 86_400_000);
    } finally {
      await deleteTrigger(env.DB, id);
    }
  });

  it("costs a served customer's batch two storage rows in its object: its events' chunk, and its state with the snapshot write", async () => {
    const userId = uid();
    await processEvents(env, [ev({ type: "identify", userId, timestamp: at(0) })]);
    await profileWhen(userId, () => true);
    // Past the one-second spacing of the first snapshot, so this call writes the snapshot itself.
    await new Promise((r) => setTimeout(r, 1_100));
    // A page view: no trigger starts on it, so no timer row either.
    const stats = await processEvents(env, [ev({ type: "page", userId, timestamp: at(1), properties: { url: "https://shop.test/one-row" } })]);
    expect(stats.sessionCalls).toBe(1);
    expect(stats.sessionRowsWritten).toBe(1);
    expect(stats.storeCalls).toBe(1);
    expect(stats.storeRowsWritten).toBe(1);
    const fresh = await eventually(async () => {
      const res = await getCustomer(userId);
      const body = (await res.json()) as any;
      return res.headers.get("x-rapport-source") === "kv" && body.session.current?.pageViews === 1 && body;
    }, "the snapshot with the page view");
    expect(fresh.session.current.events).toBe(2);
  });

  it("applies a redelivered batch to the session once", async () => {
    const userId = uid();
    await processEvents(env, [ev({ type: "identify", userId, timestamp: at(0) })]);
    await profileWhen(userId, () => true);
    const events = [added({ userId }, "a", 1)];
    expect((await processEvents(env, events)).sessionCalls).toBe(1);
    await processEvents(env, events, { redelivered: true });
    await profileWhen(userId, (p) => p.session?.current?.events >= 2);
    // Past the snapshot's one-second spacing, whatever was written last is final.
    await new Promise((r) => setTimeout(r, 1_500));
    const profile = await profileWhen(userId, () => true);
    expect(profile.session.cart.itemCount).toBe(1);
    expect(profile.session.current.events).toBe(2);
  });

  it("merges the anonymous visitor's session into the known customer's when they turn out to be one", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    await processEvents(env, [viewed({ userId }, "known-view", 1), ev({ type: "identify", userId, timestamp: at(1), traits: { email: `${userId}@example.com` } })]);
    await processEvents(env, [viewed({ anonymousId }, "anon-view", 5), added({ anonymousId }, "anon-cart", 6)]);
    const anon = await profileWhen(`anonymous_id:${anonymousId}`, () => true);
    await processEvents(env, [ev({ type: "identify", userId, anonymousId, timestamp: at(7) })]);
    const merged = await profileWhen(userId, (p) => p.identities.anonymousIds.length === 1);
    expect(merged.session.recentViews.map((v: any) => v.productId)).toEqual(["anon-view", "known-view"]);
    expect(merged.session.cart.items.map((i: any) => i.productId)).toEqual(["anon-cart"]);
    // The merged-away object is emptied.
    const leftover = await runInDurableObject(env.SESSIONS.getByName(anon.id), async (instance: CustomerSession) => instance.view());
    expect(leftover.recentViews).toEqual([]);
  });

  it("forgets the session when the customer is erased", async () => {
    const userId = uid();
    await processEvents(env, [added({ userId }, "a", 1)]);
    const profile = await profileWhen(userId, (p) => p.session?.cart.itemCount === 1);
    await eraseCustomer(env, profile.id, "test");
    const after = await runInDurableObject(env.SESSIONS.getByName(profile.id), async (instance: CustomerSession) => instance.view());
    expect(after.cart.items).toEqual([]);
    expect(after.sessionCount).toBe(0);
  });
});
