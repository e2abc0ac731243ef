import { shards } from "../../src/db/shards";
import { describe, expect, it } from "vitest";
import { catalogChanges } from "../../src/catalog/changes";
import { viewersOf } from "../../src/catalog/store";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, basic, env, eventually, KEYS, uid, shardMap } from "../helpers";
import { customerIdOf, ev, HOUR, hookUrl, putTrigger, received, runAlarm, timersOf, track } from "../trigger-helpers";

const stored = (p: Partial<{ price: number; currency: string; inStock: boolean }>) => ({ id: "p", price: p.price ?? null, currency: p.currency ?? null, inStock: p.inStock ?? null, data: { name: "Lamp" } });

describe("catalog changes (pure)", () => {
  it("finds price drops (same currency) and restocks, and nothing for a product new to the catalog", () => {
    expect(catalogChanges(stored({ price: 100, currency: "EUR" }), { product_id: "p", price: 75 })).toEqual([
      { event: "Price Dropped", productId: "p", properties: { name: "Lamp", product_id: "p", price: 75, previous_price: 100, drop_percent: 25 } },
    ]);
    expect(catalogChanges(stored({ price: 100, currency: "EUR" }), { product_id: "p", price: 75, currency: "USD" })).toEqual([]);
    expect(catalogChanges(stored({ price: 100 }), { product_id: "p", price: 120 })).toEqual([]);
    expect(catalogChanges(stored({ inStock: false }), { product_id: "p", inventory_quantity: 3 }).map((c) => c.event)).toEqual(["Back In Stock"]);
    expect(catalogChanges(stored({ inStock: true }), { product_id: "p", in_stock: true })).toEqual([]);
    expect(catalogChanges(null, { product_id: "p", price: 1, in_stock: true })).toEqual([]);
  });
});

describe("POST /v1/catalog/products → price-drop and back-in-stock triggers", () => {
  const catalog = (products: unknown[]) => admin("/v1/catalog/products", { method: "POST", body: JSON.stringify({ products }) });

  it("tells the customers who viewed a product that it is cheaper, and nobody else", async () => {
    const hook = uid("hook");
    const trigger = uid("price-drop").toLowerCase();
    const res = await putTrigger(trigger, {
      name: "Price drop",
      start: { event: "Price Dropped", where: [{ property: "drop_percent", op: "gte", value: 10 }] },
      key: "product_id",
      onRepeat: "keep",
      wait: { minutes: 0.01 },
      conditions: [{ trait: "email", op: "exists" }],
      destination: { url: hookUrl(hook) },
    });
    expect(res.status).toBe(201);
    try {
      const product = uid("lamp");
      const other = uid("chair");
      expect((await catalog([{ product_id: product, name: "Lamp", price: 100, currency: "EUR" }, { product_id: other, price: 50 }])).status).toBe(202);
      const [viewer, bystander] = [uid(), uid()];
      for (const userId of [viewer, bystander]) await processEvents(env, [ev({ type: "identify", userId, traits: { email: `${userId}@example.com` } })]);
      await processEvents(env, [track({ userId: viewer }, "Product Viewed", { product_id: product }, 2), track({ userId: bystander }, "Product Viewed", { product_id: other }, 2)]);

      const small = await catalog([{ product_id: product, price: 95 }]);
      expect(((await small.json()) as any).changes).toEqual([{ event: "Price Dropped", productId: product, previousPrice: 100, price: 95, dropPercent: 5 }]);
      const big = await catalog([{ product_id: product, price: 80 }]);
      expect(((await big.json()) as any).changes[0]).toMatchObject({ previousPrice: 95, price: 80, dropPercent: 15.8 });

      const viewerId = await customerIdOf(viewer);
      // The 5% drop starts nothing (the trigger wants 10%); the 15.8% one starts a timer.
      const timers = await eventually(async () => {
        const t = (await timersOf(viewerId)).timers.filter((x) => x.trigger_id === trigger);
        return t.length > 0 && t;
      }, "a price-drop timer");
      expect(timers.map((t) => t.item_key)).toEqual([product]);
      expect((await timersOf(await customerIdOf(bystander))).timers.filter((x) => x.trigger_id === trigger)).toEqual([]);

      await new Promise((r) => setTimeout(r, 700));
      await runAlarm(viewerId);
      const [got] = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "price-drop webhook");
      const payload = JSON.parse(got!.body);
      expect(payload.customer.id).toBe(viewerId);
      expect(payload.items).toEqual([{ productId: product, name: "Lamp", price: 80 }]);
      expect(payload.startedBy.event).toBe("Price Dropped");
      // The notification is not the customer's activity: their session did not move.
      expect(payload.customer.session.lastActivityAt).not.toBe(payload.startedBy.timestamp);
      expect(await (await admin(`/v1/catalog/products/${product}`)).json()).toMatchObject({ productId: product, name: "Lamp", price: 80, currency: "EUR" });
    } finally {
      await admin(`/v1/triggers/${trigger}`, { method: "DELETE" });
    }
  });

  it("counts in the audience only viewers a price drop can reach, and a visitor's earlier views once they sign up", async () => {
    const trigger = uid("price-drop").toLowerCase();
    const res = await putTrigger(trigger, { name: "Price drop", start: { event: "Price Dropped" }, key: "product_id", wait: { minutes: 30 }, conditions: [{ trait: "email", op: "exists" }], destination: { url: hookUrl(uid("hook")) } });
    expect(res.status).toBe(201);
    try {
      const product = uid("lamp");
      const [signsUp, staysAnonymous] = [uid("anon"), uid("anon")];
      await processEvents(env, [track({ anonymousId: signsUp }, "Product Viewed", { product_id: product }, 3), track({ anonymousId: staysAnonymous }, "Product Viewed", { product_id: product }, 3)]);
      // Nobody can be written to: no audience row.
      expect(await viewersOf(shards(env), product, 0, "", 10)).toEqual([]);
      const userId = uid();
      await processEvents(env, [ev({ type: "identify", userId, anonymousId: signsUp, traits: { email: `${userId}@example.com` } })]);
      expect(await viewersOf(shards(env), product, Date.now() - 4 * HOUR, "", 10)).toEqual([await customerIdOf(userId)]);
    } finally {
      await admin(`/v1/triggers/${trigger}`, { method: "DELETE" });
    }
  });

  it("keeps a product's viewers of a day in one row, however many viewed it, and forgets an erased viewer", async () => {
    const trigger = uid("price-drop").toLowerCase();
    expect((await putTrigger(trigger, { name: "Price drop", start: { event: "Price Dropped" }, key: "product_id", wait: { minutes: 30 }, destination: { url: hookUrl(uid("hook")) } })).status).toBe(201);
    try {
      const product = uid("lamp");
      const [a, b, c, d] = [uid(), uid(), uid(), uid()];
      // Each shard keeps the views of its own customers: one row per product and day in each.
      const rowsIn = async (d1: D1Database) => (await d1.prepare("SELECT day, customers FROM product_viewers WHERE product_id = ?").bind(product).all<{ day: number; customers: string }>()).results;
      const rowsOf = async () => (await Promise.all(shardMap().databases.map(rowsIn))).flat();
      await processEvents(env, [a, b, c].map((userId) => track({ userId }, "Product Viewed", { product_id: product }, 0)));
      for (const d1 of shardMap().databases) expect((await rowsIn(d1)).length).toBeLessThanOrEqual(1);
      // A viewer already listed, and a new one, the same day: still one row in each shard.
      await processEvents(env, [track({ userId: a }, "Product Viewed", { product_id: product }, 0), track({ userId: d }, "Product Viewed", { product_id: product }, 0)]);
      for (const d1 of shardMap().databases) expect((await rowsIn(d1)).length).toBeLessThanOrEqual(1);
      const ids = await Promise.all([a, b, c, d].map((userId) => customerIdOf(userId)));
      expect((await rowsOf()).flatMap((row) => JSON.parse(row.customers) as string[]).sort()).toEqual([...ids].sort());
      expect(await viewersOf(shards(env), product, Date.now() - HOUR, "", 10)).toEqual([...ids].sort());
      // Paged by customer id.
      expect(await viewersOf(shards(env), product, Date.now() - HOUR, [...ids].sort()[1]!, 10)).toEqual([...ids].sort().slice(2));
      expect((await admin(`/v1/customers/${ids[1]}`, { method: "DELETE" })).status).toBe(200);
      expect(await viewersOf(shards(env), product, Date.now() - HOUR, "", 10)).toEqual([ids[0], ids[2], ids[3]].sort());
    } finally {
      await admin(`/v1/triggers/${trigger}`, { method: "DELETE" });
    }
  });

  it("tells viewers when a product is back in stock", async () => {
    const hook = uid("hook");
    const trigger = uid("restock").toLowerCase();
    await putTrigger(trigger, { name: "Back in stock", start: { event: "Back In Stock" }, key: "product_id", onRepeat: "keep", wait: { minutes: 30 }, destination: { url: hookUrl(hook) } });
    try {
      const product = uid("boot");
      await catalog([{ product_id: product, in_stock: false }]);
      const userId = uid();
      await processEvents(env, [track({ userId }, "Product Viewed", { product_id: product }, 1)]);
      const res = await catalog([{ product_id: product, inventory_quantity: 12 }]);
      expect(((await res.json()) as any).changes).toEqual([{ event: "Back In Stock", productId: product }]);
      const id = await customerIdOf(userId);
      await eventually(async () => (await timersOf(id)).timers.some((t) => t.trigger_id === trigger && t.item_key === product), "a restock timer");
    } finally {
      await admin(`/v1/triggers/${trigger}`, { method: "DELETE" });
    }
  });

  it("needs an admin key: a public write key cannot change prices", async () => {
    const res = await api("/v1/catalog/products", { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json" }, body: JSON.stringify({ products: [{ product_id: "x", price: 1 }] }) });
    expect(res.status).toBe(401);
  });

  it("refuses a bad update naming the field", async () => {
    const res = await catalog([{ product_id: "x", price: -1 }]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].field).toBe("products[0].price");
  });
});
