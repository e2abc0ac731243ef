import { createScheduledController, createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { StoredEvent } from "../../src/model/events";
import { runRetention } from "../../src/maintenance/retention";
import { processEvents } from "../../src/pipeline/process";
import { api, bearer, KEYS, profileWhen, uid, dbOf, allEverywhere } from "../helpers";

const DAY = 86_400_000;
const ev = (userId: string, i: number, receivedAt: number, padding = ""): StoredEvent => ({
  messageId: `${userId}-${i}`,
  type: "track",
  userId,
  event: "Old",
  properties: padding ? { padding } : {},
  timestamp: new Date(receivedAt).toISOString(),
  receivedAt: new Date(receivedAt).toISOString(),
  sourceId: "key_test",
});

/**
 * A customer as rows were before events moved into the objects: `chunked` in event_chunks,
 * `latest` in its row, none in its object.
 */
async function asBefore(customerId: string, chunked: StoredEvent[], latest: StoredEvent[]): Promise<void> {
  await env.SESSIONS.getByName(customerId).clear();
  const d1 = dbOf(customerId);
  await d1.batch([
    d1.prepare("UPDATE customers SET event_seq = NULL, recent_events = ?, recent_ids = NULL, recent_length = NULL, chunk_count = ? WHERE id = ?").bind(JSON.stringify(latest), chunked.length > 0 ? 1 : 0, customerId),
    ...(chunked.length > 0 ? [d1.prepare("INSERT INTO event_chunks (customer_id, received_at, min_ts, max_ts, message_ids, events) VALUES (?, ?, 0, 0, ?, ?)").bind(customerId, Math.max(...chunked.map((e) => Date.parse(e.receivedAt))), JSON.stringify(chunked.map((e) => e.messageId)), JSON.stringify(chunked))] : []),
  ]);
}

async function listEvents(userId: string): Promise<string[]> {
  const page = (await (await api(`/v1/customers/${userId}/events?limit=500`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: StoredEvent[] };
  return page.events.map((e) => e.messageId);
}

describe("retention", () => {
  it("deletes events received before the retention period from the customer's object on its alarm, and keeps the profile", async () => {
    const now = Date.now();
    const userId = uid();
    const old = now - 100 * DAY;
    // Stored 100 days ago (the pipeline's clock then), in two batches; then a recent one.
    await processEvents(env, Array.from({ length: 200 }, (_, i) => ev(userId, i, old + i)), { now: old + 1000 });
    await processEvents(env, Array.from({ length: 5 }, (_, i) => ev(userId, 300 + i, old + 300 + i)), { now: old + 2000 });
    await processEvents(env, [ev(userId, 1000, now - DAY)], { now: now - DAY });
    expect((await listEvents(userId)).length).toBe(206);
    const profile = await profileWhen(userId, () => true);
    const object = env.SESSIONS.getByName(profile.id);
    // The object's alarm is set for when its oldest event expires (past already, here).
    expect(await runInDurableObject(object, (_o, state) => state.storage.getAlarm())).toBeLessThanOrEqual(Date.now());
    expect(await runDurableObjectAlarm(object)).toBe(true);
    expect(await listEvents(userId)).toEqual([`${userId}-1000`]);
    expect((await profileWhen(userId, () => true)).eventCount).toBe(206);
    // The kept one's redelivery is still a duplicate; the next event is stored.
    const again = await processEvents(env, [ev(userId, 1000, now - DAY), ev(userId, 1001, now)], { now });
    expect(again.duplicates).toBe(1);
    expect(await listEvents(userId)).toEqual([`${userId}-1001`, `${userId}-1000`]);
  });

  it("deletes the expired events rows still hold from before events moved into the objects, in chunks and in the row", async () => {
    const now = Date.now();
    const userId = uid();
    const old = now - 100 * DAY;
    await processEvents(env, [ev(userId, 1, old)], { now: old });
    const profile = await profileWhen(userId, () => true);
    await asBefore(profile.id, [ev(userId, 1, old)], [ev(userId, 2, old + 1), ev(userId, 3, now - DAY)]);
    expect(await listEvents(userId)).toEqual([`${userId}-3`, `${userId}-2`, `${userId}-1`]);
    const deleted = await runRetention(env, now);
    expect(deleted.eventChunks).toBeGreaterThan(0);
    expect(deleted.customersTrimmed).toBeGreaterThan(0);
    expect(await listEvents(userId)).toEqual([`${userId}-3`]);
  });

  it("drops the days of product viewers older than the catalog audience window, and keeps the window's", async () => {
    const now = Date.now();
    const product = uid("lamp");
    const today = Math.floor(now / DAY);
    // CATALOG_AUDIENCE_DAYS is 30: day 31 back goes, day 29 back stays.
    await env.DB.prepare("INSERT INTO product_viewers (product_id, day, customers) VALUES (?1, ?2, '[\"cus_old\"]'), (?1, ?3, '[\"cus_recent\"]')").bind(product, today - 31, today - 29).run();
    const deleted = await runRetention(env, now);
    expect(deleted.productViews).toBeGreaterThanOrEqual(1);
    const days = (await allEverywhere<{ day: number }>("SELECT day FROM product_viewers WHERE product_id = ?", product)).map((r) => r.day);
    expect(days).toEqual([today - 29]);
  });

  it("runs from the cron trigger", async () => {
    const userId = uid();
    await processEvents(env, [ev(userId, 2, Date.now())]);
    await asBefore((await profileWhen(userId, () => true)).id, [], [ev(userId, 1, Date.now() - 200 * DAY), ev(userId, 2, Date.now())]);
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "17 3 * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await listEvents(userId)).toEqual([`${userId}-2`]);
  });
});
