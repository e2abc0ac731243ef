/**
 * What a batch's timer changes cost in the session object's storage (billed per row written):
 * the pending timers live in the object's state row, so a call writes one row however many
 * timers its events start, restart or cancel.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { TriggerDefinition, type Trigger } from "../../src/triggers/definition";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { uid } from "../helpers";

const trigger = (id: string, definition: object): Trigger => ({ id, version: 1, definition: TriggerDefinition.parse({ name: id, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" }, ...definition }) });
const winBack = trigger("win-back", { start: { event: "*" }, onRepeat: "restart" });
const browse = trigger("browse", { start: { event: "Product Viewed" }, key: "product_id", cancel: { events: ["Order Completed"], sameKey: true } });
const cart = trigger("cart", { start: { event: "Product Added" }, cancel: { events: ["Order Completed"] } });
let seq = 0;
const track = (event: string, properties: Record<string, unknown> = {}): StoredEvent => ({ messageId: `m-${crypto.randomUUID()}`, type: "track", userId: "u", event, properties, timestamp: new Date(Date.now() - 60_000 + ++seq * 100).toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" });
const timersOf = (customerId: string) => runInDurableObject(env.SESSIONS.getByName(customerId), (s: CustomerSession) => s.triggers());

describe("timer rows per call", () => {
  it("writes one row for a batch that starts a timer per product viewed and restarts another on every event", async () => {
    const customerId = `cus_${uid()}`;
    const events = Array.from({ length: 8 }, (_, i) => track("Product Viewed", { product_id: `p${i}` }));
    const result = await env.SESSIONS.getByName(customerId).ingest({ customerId, events, triggers: [winBack, browse], document: null, absorb: [] });
    expect(result.rowsWritten).toBe(1);
    expect((await timersOf(customerId)).timers).toHaveLength(9);
  });

  it("moves the timers of an object stored before they lived in its state row, and drops the old table", async () => {
    const customerId = `cus_${uid()}`;
    const stub = env.SESSIONS.getByName(customerId);
    await runInDurableObject(stub, (_: CustomerSession, state: DurableObjectState) => {
      state.storage.sql.exec(`CREATE TABLE timers (id TEXT PRIMARY KEY, trigger_id TEXT NOT NULL, trigger_version INTEGER NOT NULL, item_key TEXT NOT NULL, start_message_id TEXT NOT NULL,
        start_event TEXT NOT NULL, started_at INTEGER NOT NULL, due_at INTEGER NOT NULL, fire_at INTEGER NOT NULL, items TEXT NOT NULL) WITHOUT ROWID`);
      state.storage.sql.exec("INSERT INTO timers VALUES ('browse|p1', 'browse', 1, 'p1', 'm-old', 'Product Viewed', 1000, 2000, 2000, '[]')");
      // Its state row, as the earlier version wrote it with any timer: no `timers` field.
      state.storage.sql.exec("INSERT INTO state (id, json) VALUES (1, ?)", JSON.stringify({ customerId, session: {}, snapshot: null, absorbed: [] }));
    });
    // A new instance of the object (as after a deploy) reads its storage again.
    await evictDurableObject(stub);
    expect((await timersOf(customerId)).timers).toMatchObject([{ id: "browse|p1", start_message_id: "m-old", fire_at: 2000 }]);
    const tables = await runInDurableObject(stub, (_: CustomerSession, state: DurableObjectState) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'timers'").toArray());
    expect(tables).toEqual([]);
  });

  it("writes a timer restarted by every event of a batch once, keeping the latest start", async () => {
    const customerId = `cus_${uid()}`;
    const events = Array.from({ length: 5 }, () => track("Page Viewed"));
    const result = await env.SESSIONS.getByName(customerId).ingest({ customerId, events, triggers: [winBack], document: null, absorb: [] });
    // The object's state row, timers included.
    expect(result.rowsWritten).toBe(1);
    const { timers } = await timersOf(customerId);
    expect(timers.map((t) => t.start_message_id)).toEqual([events[4]!.messageId]);
  });

  it("writes nothing for a timer started and cancelled within the batch, and deletes a stored one the batch cancels", async () => {
    const customerId = `cus_${uid()}`;
    const stub = env.SESSIONS.getByName(customerId);
    await stub.ingest({ customerId, events: [track("Product Viewed", { product_id: "p1" })], triggers: [browse], document: null, absorb: [] });
    const result = await stub.ingest({ customerId, events: [track("Product Viewed", { product_id: "p2" }), track("Order Completed", { products: [{ product_id: "p1" }, { product_id: "p2" }] })], triggers: [browse], document: null, absorb: [] });
    // The state row, without the stored p1 timer; p2 never there.
    expect(result.rowsWritten).toBe(1);
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
    // The stored timer replaced by the start after the orders, in the state row.
    expect(result.rowsWritten).toBe(1);
    expect((await timersOf(customerId)).timers.map((t) => t.start_message_id)).toEqual([later.messageId]);
  });
});
