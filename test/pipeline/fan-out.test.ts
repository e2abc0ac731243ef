/** The fan-out stage: after D1 commits, the Durable Objects, KV snapshots and enrichment jobs follow. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { fanOut } from "../../src/pipeline/fan-out";
import type { CommitPlan } from "../../src/pipeline/plan";
import { snapshotKey } from "../../src/profiles/snapshot";
import type { CustomerSession } from "../../src/sessions/customer-session";
import { TriggerDefinition } from "../../src/triggers/definition";
import { uid } from "../helpers";

const emptyPlan = (): CommitPlan => ({ writes: [], merges: [], eventMoves: [], membershipChanges: [], scores: [], views: [], newEvents: [], sessionCalls: [], notifications: [], tallies: new Map(), engagement: [], sendHours: [], surveyAnswers: [], documents: 0, retiredSnapshots: [], duplicates: 0 });
const timersOf = (customerId: string) => runInDurableObject(env.SESSIONS.getByName(customerId), (session: CustomerSession) => session.triggers());

describe("fanOut", () => {
  it("hands each session call to the customer's object, which starts the trigger's timer", async () => {
    const customerId = `cus_${uid()}`;
    const added: StoredEvent = { messageId: crypto.randomUUID(), type: "track", userId: "u", event: "Product Added", properties: {}, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" };
    const trigger = { id: "cart", version: 1, definition: TriggerDefinition.parse({ name: "cart", start: { event: "Product Added" }, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" } }) };
    const plan = { ...emptyPlan(), sessionCalls: [{ customerId, events: [added], triggers: [trigger], document: null, absorb: [], seed: false }] };
    const { sessionRowsWritten } = await fanOut(env, plan, [], Date.now());
    expect(sessionRowsWritten).toBeGreaterThan(0);
    const { timers } = await timersOf(customerId);
    expect(timers.map((t) => [t.trigger_id, t.start_message_id])).toEqual([["cart", added.messageId]]);
    // Delivered again (a retried batch), the object starts no second timer.
    await fanOut(env, plan, [], Date.now());
    expect((await timersOf(customerId)).timers).toHaveLength(1);
  });

  it("counts the rows a segment notification writes, and none for one that changes nothing", async () => {
    const customerId = `cus_${uid()}`;
    const entered: StoredEvent = { messageId: crypto.randomUUID(), type: "track", userId: "u", event: "Segment Entered", properties: { segment_id: "vip" }, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" };
    const welcome = { id: "welcome", version: 1, definition: TriggerDefinition.parse({ name: "welcome", start: { event: "Segment Entered" }, onRepeat: "keep", wait: { hours: 1 }, destination: { url: "https://esp.test/hook" } }) };
    const plan = { ...emptyPlan(), notifications: [{ customerId, events: [entered], triggers: [welcome] }] };
    // The object's state row, with the new timer.
    expect((await fanOut(env, plan, [], Date.now())).sessionRowsWritten).toBe(1);
    expect((await timersOf(customerId)).timers.map((t) => t.trigger_id)).toEqual(["welcome"]);
    // The same notification again (a retried batch): the timer is kept, nothing is written.
    expect((await fanOut(env, plan, [], Date.now())).sessionRowsWritten).toBe(0);
  });

  it("deletes the snapshots of absorbed customers", async () => {
    const absorbed = `cus_${uid()}`;
    const kept = `cus_${uid()}`;
    await Promise.all([env.PROFILES.put(snapshotKey(absorbed), "{}"), env.PROFILES.put(snapshotKey(kept), "{}")]);
    await fanOut(env, { ...emptyPlan(), retiredSnapshots: [absorbed] }, [], Date.now());
    expect(await env.PROFILES.get(snapshotKey(absorbed))).toBeNull();
    expect(await env.PROFILES.get(snapshotKey(kept))).toBe("{}");
  });
});
