import { createScheduledController, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { StoredEvent } from "../../src/model/events";
import { runRetention } from "../../src/maintenance/retention";
import { processEvents } from "../../src/pipeline/process";
import { api, bearer, KEYS, profileWhen, uid } from "../helpers";

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

async function listEvents(userId: string): Promise<string[]> {
  const page = (await (await api(`/v1/customers/${userId}/events?limit=500`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: StoredEvent[] };
  return page.events.map((e) => e.messageId);
}

describe("retention", () => {
  it("deletes events received before the retention period, in chunks and in the customer row, and keeps the profile", async () => {
    const now = Date.now();
    const userId = uid();
    const old = now - 100 * DAY;
    // 200 old events of ~400 bytes: most move to event_chunks, the rest stay in the row.
    const padding = "x".repeat(400);
    await processEvents(env, Array.from({ length: 200 }, (_, i) => ev(userId, i, old + i, padding)), { now: old + 1000 });
    // A few more old events, and a recent one: these stay in the customer row.
    await processEvents(env, [...Array.from({ length: 5 }, (_, i) => ev(userId, 300 + i, old + 300 + i)), ev(userId, 1000, now - DAY)], { now: now - DAY });
    expect((await listEvents(userId)).length).toBe(206);

    const deleted = await runRetention(env, now);
    expect(deleted.eventChunks).toBeGreaterThan(0);
    expect(deleted.customersTrimmed).toBeGreaterThan(0);
    expect(await listEvents(userId)).toEqual([`${userId}-1000`]);
    const profile = await profileWhen(userId, () => true);
    expect(profile.eventCount).toBe(206);

    // The trimmed row's summary of its events was cleared: the next batch reads the events that
    // are left, drops the kept one's redelivery, and writes a summary that matches the text again.
    const kept = ev(userId, 1000, now - DAY);
    const again = await processEvents(env, [kept, ev(userId, 1001, now)], { now });
    expect(again.duplicates).toBe(1);
    expect(await listEvents(userId)).toEqual([`${userId}-1001`, `${userId}-1000`]);
    const row = await env.DB.prepare("SELECT recent_events AS text, recent_ids AS ids, recent_length AS length FROM customers WHERE id = ?").bind(profile.id).first<{ text: string; ids: string; length: number }>();
    expect(JSON.parse(row!.ids)).toEqual((JSON.parse(row!.text) as StoredEvent[]).map((e) => e.messageId));
    expect(row!.length).toBe(row!.text.length);
  });

  it("drops the days of product viewers older than the catalog audience window, and keeps the window's", async () => {
    const now = Date.now();
    const product = uid("lamp");
    const today = Math.floor(now / DAY);
    // CATALOG_AUDIENCE_DAYS is 30: day 31 back goes, day 29 back stays.
    await env.DB.prepare("INSERT INTO product_viewers (product_id, day, customers) VALUES (?1, ?2, '[\"cus_old\"]'), (?1, ?3, '[\"cus_recent\"]')").bind(product, today - 31, today - 29).run();
    const deleted = await runRetention(env, now);
    expect(deleted.productViews).toBeGreaterThanOrEqual(1);
    const days = (await env.DB.prepare("SELECT day FROM product_viewers WHERE product_id = ?").bind(product).all<{ day: number }>()).results.map((r) => r.day);
    expect(days).toEqual([today - 29]);
  });

  it("runs from the cron trigger", async () => {
    const userId = uid();
    await processEvents(env, [ev(userId, 1, Date.now() - 200 * DAY), ev(userId, 2, Date.now())]);
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "17 3 * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await listEvents(userId)).toEqual([`${userId}-2`]);
  });
});
