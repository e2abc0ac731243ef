/**
 * What a batch's timer changes cost in the session object's storage (billed per row written):
 * each timer is written once per call however many events restart it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { TriggerDefinition, type Trigger } from "../../src/triggers/definition";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { runInDurableObject } from "cloudflare:test";
import { uid } from "../helpers";

const trigger = (id: string, definition: object): Trigger => ({ id, version: 1, definition: TriggerDefinition.parse({ name: id, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" }, ...definition }) });
const winBack = trigger("win-back", { start: { event: "*" }, onRepeat: "restart" });
const browse = trigger("browse", { start: { event: "Product Viewed" }, key: "product_id", cancel: { events: ["Order Completed"], sameKey: true } });
const cart = trigger("cart", { start: { event: "Product Added" }, cancel: { events: ["Order Completed"] } });
let seq = 0;
const track = (event: string, properties: Record<string, unknown> = {}): StoredEvent => ({ messageId: `m-${crypto.randomUUID()}`, type: "track", userId: "u", event, properties, timestamp: new Date(Date.now() - 60_000 + ++seq * 100).toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" });
const timersOf = (customerId: string) => runInDurableObject(env.SESSIONS.getByName(customerId), (s: CustomerSession) => s.triggers());

describe("timer rows per call", () => {
  it("writes a timer restarted by every event of a batch once, keeping the latest start", async () => {
    const customerId = `cus_${uid()}`;
    const events = Array.from({ length: 5 }, () => track("Page Viewed"));
    const result = await env.SESSIONS.getByName(customerId).ingest({ customerId, events, triggers: [winBack], document: null, absorb: [] });
    // One timer row and the object's state row.
    expect(result.rowsWritten).toBe(2);
    const { timers } = await timersOf(customerId);
    expect(timers.map((t) => t.start_message_id)).toEqual([events[4]!.messageId]);
  });

  it("writes nothing for a timer started and cancelled within the batch, and deletes a stored one the batch cancels", async () => {
    const customerId = `cus_${uid()}`;
    const stub = env.SESSIONS.getByName(customerId);
    await stub.ingest({ customerId, events: [track("Product Viewed", { product_id: "p1" })], triggers: [browse], document: null, absorb: [] });
    const result = await stub.ingest({ customerId, events: [track("Product Viewed", { product_id: "p2" }), track("Order Completed", { products: [{ product_id: "p1" }, { product_id: "p2" }] })], triggers: [browse], document: null, absorb: [] });
    // The stored p1 timer deleted (one row) and the state row; p2 never written.
    expect(result.rowsWritten).toBe(2);
    expect((await timersOf(customerId)).timers).toEqual([]);
  });

  it("cancels every timer of a trigger with a cancel that names no key, stored or started in the batch, and keeps later starts", async () => {
    const customerId = `cus_${uid()}`;
    const stub = env.SESSIONS.getByName(customerId);
    await stub.ingest({ customerId, events: [track("Product Added")], triggers: [cart], document: null, absorb: [] });
    // In time order: an add, two orders (each cancels), then a later add.
    const events = [track("Product Added"), track("Order Completed"), track("Order Completed"), track("Product Added")];
    const later = events[3]!;
    const result = await stub.ingest({ customerId, events, triggers: [cart], document: null, absorb: [] });
    // The stored timer replaced by the start after the orders: one upsert, and the state row.
    expect(result.rowsWritten).toBe(2);
    expect((await timersOf(customerId)).timers.map((t) => t.start_message_id)).toEqual([later.messageId]);
  });
});
