import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/delivery/signature";
import { mergeCustomers } from "../../src/pipeline/merge-customers";
import { processEvents } from "../../src/pipeline/process";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { RECIPES } from "../../src/triggers/recipes";
import type { TriggerDefinitionInput } from "../../src/triggers/definition";
import { admin, env, eventually, uid } from "../helpers";
import { customerIdOf, ev, hookUrl, HOUR, putTrigger, received, runAlarm, stubOf, timersOf, track } from "../trigger-helpers";

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await admin(`/v1/triggers/${id}`, { method: "DELETE" });
});

/** A trigger on a test-specific event name, so triggers of parallel tests never meet. */
async function trigger(overrides: Partial<TriggerDefinitionInput> & { destination: TriggerDefinitionInput["destination"] }) {
  const id = uid("t").toLowerCase();
  const tag = id;
  const definition: TriggerDefinitionInput = {
    name: `Browse abandonment ${tag}`,
    start: { event: `Viewed ${tag}` },
    key: "product_id",
    cancel: { events: [`Bought ${tag}`], sameKey: true },
    wait: { hours: 48 },
    conditions: [{ trait: "email", op: "exists" }],
    ...overrides,
  };
  const res = await putTrigger(id, definition);
  expect(res.status).toBe(201);
  created.push(id);
  return { id, viewed: `Viewed ${tag}`, bought: `Bought ${tag}` };
}

/** A known customer (with an email) and their customer id. */
async function customer(extraTraits: Record<string, unknown> = {}) {
  const userId = uid();
  await processEvents(env, [ev({ type: "identify", userId, traits: { email: `${userId}@example.com`, firstName: "Ada", ...extraTraits }, timestamp: new Date(Date.now() - 72 * HOUR).toISOString() })]);
  return { userId, id: await customerIdOf(userId) };
}

describe("behavioural triggers on CustomerSession alarms", () => {
  it("fires after the wait and delivers a signed webhook with the customer and the product", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const { userId, id } = await customer();
    // Viewed 49 hours ago: the 48-hour wait is over.
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "sku-1", name: "Red shoes", price: 80 }, 49)]);
    expect(await runAlarm(id)).toBe(true);
    const [delivery] = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "webhook");
    const payload = JSON.parse(delivery!.body);
    expect(payload).toMatchObject({ type: "trigger.fired", trigger: { id: t.id, version: 1 }, customer: { id, userId, email: `${userId}@example.com` }, items: [{ productId: "sku-1", name: "Red shoes", price: 80 }], startedBy: { event: t.viewed } });
    expect(payload.customer.session.lastActivityAt).toBe(payload.startedBy.timestamp);
    expect(delivery!.headers["idempotency-key"]).toBe(payload.id);
    // Signed by both secrets of the rotation: a receiver holding either verifies.
    const signature = delivery!.headers["rapport-signature"]!;
    expect(await verifySignature(signature, delivery!.body, "whsec_test_new")).toMatchObject({ ok: true });
    expect(await verifySignature(signature, delivery!.body, "whsec_test_old")).toMatchObject({ ok: true });
    expect(await verifySignature(signature, delivery!.body, "whsec_someone_else")).toEqual({ ok: false, reason: "mismatch" });
    // The delivery log says so, per trigger and per customer.
    const log = await eventually(async () => {
      const body = (await (await admin(`/v1/triggers/${t.id}/deliveries`)).json()) as any;
      return body.deliveries[0]?.status === "delivered" && body;
    }, "delivered in the log");
    expect(log.deliveries[0]).toMatchObject({ id: payload.id, customerId: id, attempts: 1, lastStatusCode: 200 });
    const history = (await (await admin(`/v1/customers/${userId}/triggers`)).json()) as any;
    expect(history.pending).toEqual([]);
    expect(history.history[0]).toMatchObject({ triggerId: t.id, outcome: "sent" });
  });

  it("does not fire before the wait is over", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "sku-1" })]);
    await runAlarm(id);
    const { timers } = await timersOf(id);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.fire_at - Date.now()).toBeGreaterThan(47 * HOUR);
    // One alarm, at the timer's time (once the deferred snapshot write, a second after the
    // first read's, is done).
    await eventually(async () => (await runInDurableObject(stubOf(id), (_: CustomerSession, state) => state.storage.getAlarm())) === timers[0]!.fire_at, "the alarm at the timer");
    expect(await received(hook)).toEqual([]);
  });

  it("is cancelled by a purchase of the same product, not by a purchase of another", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "a" }, 49), track({ userId }, t.viewed, { product_id: "b" }, 49)]);
    await processEvents(env, [track({ userId }, t.bought, { order_id: "o1", products: [{ product_id: "a" }, { product_id: "c" }] }, 48.5)]);
    expect((await timersOf(id)).timers.map((x) => x.item_key)).toEqual(["b"]);
    await runAlarm(id);
    const deliveries = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "webhook");
    expect(deliveries.map((d) => JSON.parse(d.body).items[0].productId)).toEqual(["b"]);
  });

  it("defers a message due in quiet hours to the end of the window", async () => {
    const hook = uid("hook");
    const hh = (d: Date) => d.toISOString().slice(11, 16);
    const now = new Date();
    // A quiet window around now in the customer's time zone (UTC here), ending in two hours.
    const end = new Date(now.getTime() + 2 * HOUR);
    const t = await trigger({ destination: { url: hookUrl(hook) }, quietHours: { start: hh(new Date(now.getTime() - HOUR)), end: hh(end), defaultTimeZone: "Asia/Tokyo" } });
    const { userId, id } = await customer();
    await processEvents(env, [{ ...track({ userId }, t.viewed, { product_id: "a" }, 49), context: { timezone: "UTC" } }]);
    await runAlarm(id);
    const [timer] = (await timersOf(id)).timers;
    expect(hh(new Date(timer!.fire_at))).toBe(hh(end));
    expect(timer!.fire_at).toBeGreaterThan(now.getTime());
    expect(timer!.fire_at - now.getTime()).toBeLessThanOrEqual(2 * HOUR);
    expect(await received(hook)).toEqual([]);
  });

  it("honours the frequency cap: one message per period however many products were viewed", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) }, frequencyCap: { count: 1, periodHours: 168 } });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "a" }, 50), track({ userId }, t.viewed, { product_id: "b" }, 49)]);
    await runAlarm(id);
    await eventually(async () => (await received(hook)).length === 1, "one webhook");
    const { firings } = await timersOf(id);
    expect(firings.map((f) => f.outcome).sort()).toEqual(["capped", "sent"]);
  });

  it("drops the message when the profile does not meet the trigger's conditions, saying which", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) }, conditions: [{ trait: "email", op: "exists" }, { consent: "marketing", require: "granted" }] });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "a" }, 49)]);
    await runAlarm(id);
    const { firings, timers } = await timersOf(id);
    expect(timers).toEqual([]);
    expect(firings[0]).toMatchObject({ outcome: "conditions_not_met", reason: "consent marketing granted" });
    expect(await received(hook)).toEqual([]);
  });

  it("keeps its timers through eviction and restart of the object", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "a" }, 49)]);
    await evictDurableObject(stubOf(id));
    expect((await timersOf(id)).timers).toHaveLength(1);
    expect(await runAlarm(id)).toBe(true);
    await eventually(async () => (await received(hook)).length === 1, "webhook after restart");
  });

  it("does not send twice when an alarm is retried after the message was queued", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, t.viewed, { product_id: "a" }, 49)]);
    await runAlarm(id);
    await eventually(async () => (await received(hook)).length === 1, "first webhook");
    const deliveryId = JSON.parse((await received(hook))[0]!.body).id;
    await eventually(async () => ((await (await admin(`/v1/deliveries/${deliveryId}`)).json()) as any).status === "delivered", "delivered");
    // As if the previous alarm had crashed after queueing the message but before marking it sent.
    await runInDurableObject(stubOf(id), async (_: CustomerSession, state) => {
      state.storage.sql.exec("UPDATE firings SET outcome = 'sending', message = ? WHERE id = ?", JSON.stringify(((await (await admin(`/v1/deliveries/${deliveryId}`)).json()) as any).message), deliveryId);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runAlarm(id)).toBe(true);
    expect((await timersOf(id)).firings[0]).toMatchObject({ id: deliveryId, outcome: "sent" });
    // The resent message reached the consumer, which skipped it: still one webhook.
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook)).toHaveLength(1);
  });

  it("keeps a thousand pending timers of one customer on a single alarm, set to the earliest", async () => {
    const t = await trigger({ destination: { url: hookUrl(uid("hook")) } });
    const { userId, id } = await customer();
    const views = Array.from({ length: 1_000 }, (_, i) => track({ userId }, t.viewed, { product_id: `p-${i}` }, 10 - i / 200));
    await processEvents(env, views);
    const { timers } = await timersOf(id);
    expect(timers).toHaveLength(1_000);
    const earliest = Math.min(...timers.map((x) => x.fire_at));
    await eventually(async () => (await runInDurableObject(stubOf(id), (_: CustomerSession, state) => state.storage.getAlarm())) === earliest, "one alarm at the earliest timer");
  });

  it("restarts the wait on a repeated start, or keeps the first, as the trigger says", async () => {
    const restart = await trigger({ destination: { url: hookUrl(uid("hook")) } });
    const keep = await trigger({ destination: { url: hookUrl(uid("hook")) }, onRepeat: "keep" });
    const { userId, id } = await customer();
    await processEvents(env, [track({ userId }, restart.viewed, { product_id: "a" }, 10), track({ userId }, keep.viewed, { product_id: "a" }, 10)]);
    await processEvents(env, [track({ userId }, restart.viewed, { product_id: "a" }, 1), track({ userId }, keep.viewed, { product_id: "a" }, 1)]);
    const timers = new Map((await timersOf(id)).timers.map((x) => [x.trigger_id, x]));
    expect(Date.now() + 47 * HOUR - timers.get(restart.id)!.due_at).toBeLessThan(HOUR);
    expect(Date.now() + 38 * HOUR - timers.get(keep.id)!.due_at).toBeLessThan(HOUR);
  });

  it("starts no timer for a visitor nobody can write to, and starts it from their history when they sign in", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const anonymousId = uid("anon");
    await processEvents(env, [track({ anonymousId }, t.viewed, { product_id: "a" }, 30)]);
    const anonId = await customerIdOf(`anonymous_id:${anonymousId}`);
    // No email, so the trigger could never send: no timer (test/pipeline/plan.test.ts: no call).
    expect((await timersOf(anonId)).timers).toEqual([]);
    const userId = uid();
    await processEvents(env, [ev({ type: "identify", userId, anonymousId, traits: { email: `${userId}@example.com` } })]);
    const id = await customerIdOf(userId);
    const [timer] = (await timersOf(id)).timers;
    expect(timer).toMatchObject({ trigger_id: t.id, item_key: "a" });
    // Due 48 hours after the view, 30 hours ago: not from the sign-in.
    expect(Math.abs(timer!.due_at - (Date.now() + 18 * HOUR))).toBeLessThan(HOUR);
  });

  it("moves pending timers to the survivor when two customers merge", async () => {
    const hook = uid("hook");
    // No conditions: the anonymous visitor's own object holds a timer before the merge.
    const t = await trigger({ destination: { url: hookUrl(hook) }, conditions: [] });
    const { userId, id } = await customer();
    const anonymousId = uid("anon");
    await processEvents(env, [track({ anonymousId }, t.viewed, { product_id: "a" }, 49)]);
    const anonId = await customerIdOf(`anonymous_id:${anonymousId}`);
    expect((await timersOf(anonId)).timers).toHaveLength(1);
    await processEvents(env, [ev({ type: "identify", userId, anonymousId })]);
    expect((await timersOf(anonId)).timers).toEqual([]);
    expect((await timersOf(id)).timers.map((x) => x.trigger_id)).toEqual([t.id]);
    await runAlarm(id);
    const [delivery] = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "webhook");
    expect(JSON.parse(delivery!.body).customer.id).toBe(id);
  });
});

describe("merges decided outside the pipeline", () => {
  it("moves the merged customer's timers to the survivor when an admin or the duplicate scan merges two customers", async () => {
    const hook = uid("hook");
    const t = await trigger({ destination: { url: hookUrl(hook) } });
    const a = await customer();
    const b = await customer();
    await processEvents(env, [track({ userId: a.userId }, t.viewed, { product_id: "from-a" }, 1)]);
    await processEvents(env, [track({ userId: b.userId }, t.viewed, { product_id: "from-b" }, 1)]);
    // Two userIds: the default rules refuse it, so allow two for this merge.
    const outcome = await mergeCustomers({ ...env, IDENTITY_LIMITS: "user_id=2" } as unknown as Env, [a.id, b.id], { reason: "test" });
    expect(outcome.merged).toBe(true);
    if (!outcome.merged) return;
    const survivor = await timersOf(outcome.survivorId);
    expect(survivor.timers.map((x) => x.item_key).sort()).toEqual(["from-a", "from-b"]);
    expect((await timersOf(outcome.mergedId)).timers).toEqual([]);
  });
});

describe("the shipped recipes", () => {
  // Installed under their real event names (this file's tests run one after another), without
  // quiet hours so the outcome does not depend on the time of day the tests run.
  async function install(recipe: keyof typeof RECIPES, hook: string) {
    const id = `${recipe}-${uid("r").toLowerCase()}`;
    const { quietHours: _, ...definition } = RECIPES[recipe];
    expect((await putTrigger(id, { ...definition, destination: { url: hookUrl(hook) } })).status).toBe(201);
    created.push(id);
    return id;
  }
  const uninstall = (id: string) => admin(`/v1/triggers/${id}`, { method: "DELETE" });

  it("cart abandonment: product added or checkout started, no order within 4 hours, sends the cart", async () => {
    const hook = uid("hook");
    const id = await install("cart-abandonment", hook);
    try {
      const abandoned = await customer();
      const ordered = await customer();
      await processEvents(env, [track({ userId: abandoned.userId }, "Product Added", { product_id: "mug", price: 12, quantity: 2 }, 5)]);
      await processEvents(env, [track({ userId: ordered.userId }, "Product Added", { product_id: "mug", price: 12 }, 5), track({ userId: ordered.userId }, "Order Completed", { order_id: "o-1", products: [{ product_id: "mug" }] }, 4.5)]);
      const checkout = await customer();
      await processEvents(env, [track({ userId: checkout.userId }, "Checkout Started", { products: [{ product_id: "lamp", price: 40 }] }, 4.2)]);
      for (const c of [abandoned, ordered, checkout]) await runAlarm(c.id);
      const got = await eventually(async () => ((await received(hook)).length === 2 ? received(hook) : null), "cart webhooks");
      const payloads = new Map(got.map((g) => [JSON.parse(g.body).customer.id, JSON.parse(g.body)]));
      expect([...payloads.keys()].sort()).toEqual([abandoned.id, checkout.id].sort());
      expect(payloads.get(abandoned.id).customer.session.cart).toMatchObject({ itemCount: 2, value: 24, items: [{ productId: "mug", quantity: 2 }] });
      expect(payloads.get(checkout.id).items).toEqual([{ productId: "lamp", price: 40 }]);
      expect((await timersOf(ordered.id)).timers.filter((x) => x.trigger_id === id)).toEqual([]);
    } finally {
      await uninstall(id);
    }
  });

  it("post-purchase follow-up: one message per order, 7 days after it", async () => {
    const hook = uid("hook");
    const id = await install("post-purchase", hook);
    try {
      const { userId, id: customerId } = await customer();
      await processEvents(env, [track({ userId }, "Order Completed", { order_id: "o-1" }, 7 * 24 + 1), track({ userId }, "Order Completed", { order_id: "o-2" }, 24)]);
      await runAlarm(customerId);
      const got = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "post-purchase webhook");
      expect(got.map((g) => JSON.parse(g.body).startedBy.event)).toEqual(["Order Completed"]);
      expect((await timersOf(customerId)).timers.filter((x) => x.trigger_id === id).map((x) => x.item_key)).toEqual(["o-2"]);
    } finally {
      await uninstall(id);
    }
  });

  it("browse abandonment: viewed, not bought within 48 hours, one message for the product not bought", async () => {
    const hook = uid("hook");
    const id = await install("browse-abandonment", hook);
    try {
      const { userId, id: customerId } = await customer();
      await processEvents(env, [track({ userId }, "Product Viewed", { product_id: "kept", name: "Kept" }, 50), track({ userId }, "Product Viewed", { product_id: "bought" }, 50)]);
      await processEvents(env, [track({ userId }, "Order Completed", { order_id: "o", products: [{ product_id: "bought" }] }, 49)]);
      await runAlarm(customerId);
      const got = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "browse webhook");
      expect(got.map((g) => JSON.parse(g.body).items[0].productId)).toEqual(["kept"]);
    } finally {
      await uninstall(id);
    }
  });

  it("win-back: fires after 60 days without activity; any event restarts the wait", async () => {
    const hook = uid("hook");
    const id = await install("win-back", hook);
    try {
      const daysAgo61 = new Date(Date.now() - 61 * 24 * HOUR).toISOString();
      const gone = { userId: uid() };
      await processEvents(env, [ev({ type: "identify", userId: gone.userId, traits: { email: `${gone.userId}@example.com` }, timestamp: daysAgo61 })]);
      const goneId = await customerIdOf(gone.userId);
      const back = await customer();
      await processEvents(env, [ev({ type: "page", userId: back.userId })]);
      await runAlarm(goneId);
      await runAlarm(back.id);
      const got = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "win-back webhook");
      expect(got.map((g) => JSON.parse(g.body).customer.id)).toEqual([goneId]);
      const [pending] = (await timersOf(back.id)).timers.filter((x) => x.trigger_id === id);
      expect(pending!.due_at - Date.now()).toBeGreaterThan(59 * 24 * HOUR);
    } finally {
      await uninstall(id);
    }
  });

  it("all validate, and each does what its name says", async () => {
    expect(Object.keys(RECIPES).sort()).toEqual(["back-in-stock", "browse-abandonment", "cart-abandonment", "post-purchase", "price-drop", "win-back"]);
    expect(RECIPES["price-drop"]).toMatchObject({ start: { event: "Price Dropped", where: [{ property: "drop_percent", op: "gte", value: 10 }] }, key: "product_id" });
    expect(RECIPES["back-in-stock"]).toMatchObject({ start: { event: "Back In Stock" }, key: "product_id" });
    expect(RECIPES["browse-abandonment"]).toMatchObject({ start: { event: "Product Viewed" }, key: "product_id", cancel: { events: ["Order Completed"], sameKey: true }, wait: { hours: 48 } });
    expect(RECIPES["cart-abandonment"]).toMatchObject({ start: { event: ["Product Added", "Checkout Started"] }, cancel: { events: ["Order Completed"], sameKey: false }, wait: { hours: 4 } });
    expect(RECIPES["post-purchase"]).toMatchObject({ start: { event: "Order Completed" }, key: "order_id", onRepeat: "keep" });
    expect(RECIPES["win-back"]).toMatchObject({ start: { event: "*" }, onRepeat: "restart", wait: { days: 60 } });
  });
});
