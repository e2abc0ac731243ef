import { runBatch } from "../../src/db/statements";
import { shards } from "../../src/db/shards";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { EventPack, StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { readSnapshot } from "../../src/profiles/snapshot";
import { admin, brokenCustomer, eventually, getCustomer, profileWhen, uid, ownerOf, countEverywhere, dbOf } from "../helpers";

let seq = 0;
function event(partial: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent {
  seq += 1;
  return { messageId: `msg-${crypto.randomUUID()}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...partial };
}

function pack(events: StoredEvent[], packId = `pk_${crypto.randomUUID()}`): EventPack {
  return { v: 1, packId, receivedAt: new Date().toISOString(), sourceId: "key_test", events, rejected: [] };
}

function message(body: unknown, attempts = 1) {
  return { id: crypto.randomUUID(), timestamp: new Date(), attempts, body };
}

async function runConsumer(queue: string, messages: ReturnType<typeof message>[]) {
  const batch = createMessageBatch(queue, messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

describe("a batch bigger than one D1 parameter", () => {
  it("commits every customer when the rows take several statements (each parameter stays under 900 KB)", async () => {
    // 300 customers with 4 KB events: some 1.3 MB of customer rows, so at least two upserts.
    const note = "x".repeat(4_000);
    const ids = Array.from({ length: 300 }, () => uid("big"));
    const stats = await processEvents(env, ids.map((userId) => event({ type: "identify", userId, traits: { note } })));
    expect(stats.customersChanged).toBe(300);
    const counted = { n: await countEverywhere("SELECT count(*) AS n FROM identities WHERE key IN (SELECT 'user_id:' || value FROM json_each(?1))", JSON.stringify(ids)) };
    expect(counted!.n).toBe(300);
    for (const userId of [ids[0]!, ids[150]!, ids[299]!]) expect((await profileWhen(userId, () => true)).traits.note).toBe(note);
  });
});

describe("consumer: acks, retries, dead letters", () => {
  it("acknowledges every message of a good batch, one by one", async () => {
    const a = uid();
    const b = uid();
    const messages = [message(pack([event({ type: "track", userId: a, event: "X" })])), message(pack([event({ type: "track", userId: b, event: "Y" })]))];
    const result = await runConsumer("rapport-events", messages);
    expect(result.outcome).toBe("ok");
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    await profileWhen(a, (p) => p.counters.events.X === 1);
    await profileWhen(b, (p) => p.counters.events.Y === 1);
  });

  it("counts a redelivered pack once, and rewrites the snapshot on redelivery", async () => {
    const userId = uid();
    const body = pack([event({ type: "track", userId, event: "Once" }), event({ type: "identify", userId, traits: { tier: "gold" } })]);
    await runConsumer("rapport-events", [message(body)]);
    // Served once, so the customer has a snapshot to keep.
    const first = await profileWhen(userId, (p) => p.eventCount === 2);
    await eventually(async () => (await readSnapshot(env.PROFILES, first.id)) !== null, "snapshot");
    // The previous attempt committed D1 but (say) its KV write was lost.
    await env.PROFILES.delete(`customer:${first.id}`);
    const result = await runConsumer("rapport-events", [message(body, 2), message(body, 3)]);
    expect(result.explicitAcks).toHaveLength(2);
    // Written by the customer's session object, at most once a second (KV's limit per key).
    const snapshot = await eventually(() => readSnapshot(env.PROFILES, first.id), "rewritten snapshot");
    expect(snapshot.eventCount).toBe(2);
    expect(snapshot.version).toBe(first.version);
  });

  it("still hands a message's events to the session objects when its batch failed after the D1 commit", async () => {
    // A customer whose session object fails (helpers.ts): the whole batch commits to D1, then
    // fails in the session calls.
    const { userId: broken } = await brokenCustomer();
    const served = uid();
    await runConsumer("rapport-events", [message(pack([event({ type: "identify", userId: served })]))]);
    await profileWhen(served, () => true);
    const poisoned = message(pack([event({ type: "track", userId: broken, event: "X" })]));
    const fine = message(pack([event({ type: "track", userId: served, event: "Product Added", properties: { product_id: "kept" } })]));
    const result = await runConsumer("rapport-events", [poisoned, fine]);
    expect(result.explicitAcks).toEqual([fine.id]);
    // The fine message's second, isolated attempt found its events already in D1, and still
    // gave them to the session object.
    const profile = await profileWhen(served, (p) => p.session?.cart.itemCount === 1);
    expect(profile.session.cart.items[0].productId).toBe("kept");
  });

  it("retries only the poisoned message, with exponential backoff, and acks the rest", async () => {
    const good = uid();
    const poisoned = message({ ...pack([]), events: [null] }, 3);
    const fine = message(pack([event({ type: "page", userId: good })]));
    const result = await runConsumer("rapport-events", [poisoned, fine]);
    expect(result.explicitAcks).toEqual([fine.id]);
    // getQueueResult does not report the retry's delaySeconds (the plugin drops it); the backoff
    // itself is checked in retry.test.ts.
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([poisoned.id]);
    await profileWhen(good, (p) => p.eventCount === 1);
  });

  it("keeps a message it cannot decode as a dead letter at once, with the reason", async () => {
    const bad = message({ hello: "not a pack" });
    const result = await runConsumer("rapport-events", [bad]);
    expect(result.explicitAcks).toEqual([bad.id]);
    const letter = (await (await admin(`/v1/admin/dead-letters/${bad.id}`)).json()) as any;
    expect(letter.lastError).toContain("undecodable");
    expect(letter.body).toEqual({ hello: "not a pack" });
  });

  it("stores dead letters with the last error, lists them, and replays them into profiles", async () => {
    const userId = uid();
    const body = pack([event({ type: "track", userId, event: "Recovered" })]);
    // The pipeline failed on this pack before (recorded by its retry path).
    const poisonedTwin = message({ ...body, events: [null] }, 6);
    await runConsumer("rapport-events", [poisonedTwin]);
    // The dead-letter queue delivers it as its own first attempt.
    const dead = message(body, 1);
    const result = await runConsumer("rapport-events-dlq", [dead]);
    expect(result.ackAll).toBe(true);

    const list = (await (await admin("/v1/admin/dead-letters?status=pending")).json()) as any;
    const listed = list.items.find((i: any) => i.id === dead.id);
    expect(listed.attempts).toBe(6);
    expect(listed.lastError).toMatch(/null|Cannot read/);
    expect((await admin(`/v1/customers/${userId}`, {})).status).toBe(404);

    const replay = await admin(`/v1/admin/dead-letters/${dead.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as any).replayedAt).not.toBeNull();
    await profileWhen(userId, (p) => p.counters.events.Recovered === 1);

    const again = await admin(`/v1/admin/dead-letters/${dead.id}/replay`, { method: "POST" });
    expect(again.status).toBe(409);
    const forced = await admin(`/v1/admin/dead-letters/${dead.id}/replay?force=true`, { method: "POST" });
    expect(forced.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const after = await profileWhen(userId, () => true);
    expect(after.counters.events.Recovered).toBe(1);
  });
});

describe("pipeline: coalescing and concurrency", () => {
  it("writes each served customer's snapshot once per batch however many events it has", async () => {
    const users = [uid(), uid(), uid()];
    await processEvents(env, users.map((userId) => event({ type: "identify", userId })));
    // Read once: from then on the pipeline keeps their KV snapshots fresh.
    for (const u of users) await profileWhen(u, () => true);
    const events = users.flatMap((userId) => Array.from({ length: 20 }, (_, i) => event({ type: "track", userId, event: `E${i % 3}` })));
    const stats = await processEvents(env, events);
    expect(stats.customers).toBe(3);
    expect(stats.kvWrites).toBe(3);
    expect(stats.events).toBe(60);
    for (const u of users) {
      // Fresh within a second: the first snapshot was written moments ago, and KV takes one
      // write per second per key, so the session object defers this one to its alarm.
      const body = await eventually(async () => {
        const res = await getCustomer(u);
        const b = (await res.json()) as any;
        return res.headers.get("x-rapport-source") === "kv" && b.eventCount === 21 && b;
      }, "fresh snapshot");
      expect(body.eventCount).toBe(21);
    }
  });

  it("starts a customer's snapshot at the first read and keeps it fresh after", async () => {
    const userId = uid();
    const stats = await processEvents(env, [event({ type: "identify", userId, traits: { plan: "free" } })]);
    expect(stats.kvWrites).toBe(0);
    const first = await getCustomer(userId);
    expect(first.headers.get("x-rapport-source")).toBe("d1");
    const { id } = (await first.json()) as any;
    await eventually(async () => (await readSnapshot(env.PROFILES, id)) !== null, "first snapshot");
    const later = await processEvents(env, [event({ type: "identify", userId, traits: { plan: "pro" } })]);
    expect(later.kvWrites).toBe(1);
    await eventually(async () => (await readSnapshot(env.PROFILES, id))?.traits.plan === "pro", "fresh snapshot");
    const res = await getCustomer(userId);
    expect(res.headers.get("x-rapport-source")).toBe("kv");
  });

  it("links anonymous browsing and an identify in the same batch to one customer", async () => {
    const anonymousId = uid("anon");
    const userId = uid();
    await processEvents(env, [event({ type: "page", anonymousId }), event({ type: "identify", anonymousId, userId, traits: { email: "Ada@Example.com" } })]);
    const byUser = await profileWhen(userId, () => true);
    const byAnon = await profileWhen(`anonymous_id:${anonymousId}`, () => true);
    const byEmail = await profileWhen("email:ada@example.com", () => true);
    expect(byAnon.id).toBe(byUser.id);
    expect(byEmail.id).toBe(byUser.id);
    expect(byUser.eventCount).toBe(2);
    expect(byUser.identities).toEqual({ userIds: [userId], anonymousIds: [anonymousId], emails: ["ada@example.com"], phones: [], externalIds: [] });
  });

  it("loses no update when two invocations write the same customer at once", async () => {
    const userId = uid();
    await processEvents(env, [event({ type: "identify", userId })]);
    const batches = Array.from({ length: 4 }, (_, i) => Array.from({ length: 5 }, () => event({ type: "track", userId, event: `C${i}` })));
    await Promise.all(batches.map((b) => processEvents(env, b)));
    const id = (await ownerOf(`user_id:${userId}`))!;
    const row = await dbOf(id).prepare("SELECT counters, event_count FROM customers WHERE id = ?").bind(id).first<{ counters: string; event_count: number }>();
    // Every event once. (Fewer than four writes may do it: an invocation that loses the race
    // finds its events applied by the winner, which its object answered them to.)
    expect(row!.event_count).toBe(21);
    expect(JSON.parse(row!.counters).events).toEqual({ C0: 5, C1: 5, C2: 5, C3: 5 });
  });

  it("creates one customer when two invocations see a new person at once", async () => {
    const anonymousId = uid("anon");
    await Promise.all([processEvents(env, [event({ type: "page", anonymousId })]), processEvents(env, [event({ type: "page", anonymousId })])]);
    const profile = await profileWhen(`anonymous_id:${anonymousId}`, () => true);
    expect(profile.eventCount).toBe(2);
  });
});

describe("pipeline: end to end through the queue", () => {
  it("delivers what was posted to the profile, via the real queue and consumer", async () => {
    const userId = uid();
    const { ingest } = await import("../helpers");
    await ingest("/v1/batch", { batch: Array.from({ length: 30 }, (_, i) => ({ type: "track", userId, event: "Tick", messageId: `${userId}-${i}` })) });
    await ingest("/v1/batch", { batch: Array.from({ length: 30 }, (_, i) => ({ type: "track", userId, event: "Tick", messageId: `${userId}-${i}` })) });
    await eventually(async () => (await profileWhen(userId, () => true)).eventCount === 30, "30 events");
    await new Promise((r) => setTimeout(r, 300));
    expect((await profileWhen(userId, () => true)).eventCount).toBe(30);
  });
});

describe("pipeline: the first read and a concurrent consumer", () => {
  it("makes a consumer that read the customer before its first read fail its version check", async () => {
    const { profileStatements, loadProfile, markServed } = await import("../../src/profiles/store");
    const userId = uid();
    await processEvents(env, [event({ type: "identify", userId })]);
    const id = (await ownerOf(`user_id:${userId}`))!;
    const before = (await loadProfile(shards(env), id))!;
    expect(before.servedAt).toBeNull();
    await markServed(shards(env), id);
    const stale = profileStatements(dbOf(id), [{ customerId: id, previousVersion: before.version, state: before.state, identities: before.identities, newIdentities: [], eventSeq: before.eventSeq, absorbed: {}, rowHeldEvents: false, segments: {}, scores: null, servedAt: before.servedAt, sessionAt: null, createdAt: before.createdAt, now: Date.now() }]);
    await expect(runBatch(dbOf(id), stale)).rejects.toThrow(/rapport_version_conflict/);
  });
});

describe("dead-letter queue, end to end", () => {
  it("moves a message that keeps failing to the dead letters after the configured retries", async () => {
    // A pack the consumer cannot process (an event is null), sent through the real queue.
    // RETRY_BASE_DELAY_SECONDS is 0 in tests, so the retries follow each other at once.
    const packId = `pk_poison_${crypto.randomUUID()}`;
    await env.EVENTS.send({ ...pack([], packId), events: [null] }, { contentType: "json" });
    const letter = await eventually(
      async () => {
        const list = (await (await admin("/v1/admin/dead-letters?status=pending&limit=100")).json()) as any;
        return list.items.find((i: any) => i.body?.packId === packId);
      },
      "dead letter",
      20_000,
    );
    // max_retries = 5 in wrangler.toml: the first delivery and five retries.
    expect(letter.attempts).toBe(6);
    expect(letter.lastError).toMatch(/null|Cannot read/);
  });
});
