import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { readConfig } from "../../src/model/config";
import { placeOf } from "../../src/queues/event-queues";
import { roleOfQueue } from "../../src/queues/names";
import { admin, basic, env, eventually, getCustomer, KEYS, uid } from "../helpers";

/** A storefront's small request, as Cloudflare hands it to the worker from location `colo`. */
async function track(colo: string, message: Record<string, unknown>) {
  const request = new Request("http://rapport.test/v1/track", { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json" }, body: JSON.stringify(message), cf: { colo } } as RequestInit);
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The buffer a shopper's small requests from `colo` go through, and the packs it has sent. */
async function packsSent(colo: string, anonymousId: string) {
  const name = `${colo}:${placeOf(anonymousId, readConfig(env).ingestBuffers)}`;
  return (await env.INGEST_BUFFER.getByName(name).stats()).packsSent;
}

async function eventCount(ref: string, atLeast: number) {
  return eventually(async () => {
    const res = await getCustomer(ref);
    if (!res.ok) return null;
    const n = ((await res.json()) as { eventCount: number }).eventCount;
    return n >= atLeast ? n : null;
  }, `${atLeast} events of ${ref}`);
}

describe("packing small requests at the edge (ingest buffers)", () => {
  it("packs concurrent one-event requests into one queue message, answers each only once it is sent, and every event reaches the profile once", async () => {
    const colo = uid("C");
    const anonymousId = uid("anon");
    const userId = uid("packed");
    const messages = Array.from({ length: 12 }, (_, i) => ({ anonymousId, userId, event: "Product Viewed", messageId: `${userId}-${i}`, properties: { product_id: `p${i}` } }));
    const answers = await Promise.all(messages.map((m) => track(colo, m)));
    expect(answers.map((r) => r.status)).toEqual(messages.map(() => 200));
    // Twelve requests under the pack size within the wait: one pack. Each answer came after it was sent.
    expect(await packsSent(colo, anonymousId)).toBe(1);
    expect(await eventCount(userId, 12)).toBe(12);
    // A client retrying all of them (at least once) adds nothing.
    await Promise.all(messages.map((m) => track(colo, m)));
    expect(await packsSent(colo, anonymousId)).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await eventCount(userId, 12)).toBe(12);
  });

  it("sends a pack as soon as it holds INGEST_PACK_EVENTS messages, and the rest after the wait", async () => {
    const colo = uid("C");
    const anonymousId = uid("anon");
    const userId = uid("full");
    const { ingestPackEvents } = readConfig(env);
    const messages = Array.from({ length: ingestPackEvents + 3 }, (_, i) => ({ anonymousId, userId, event: "Product Viewed", messageId: `${userId}-${i}`, properties: { product_id: `p${i}` } }));
    const answers = await Promise.all(messages.map((m) => track(colo, m)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(await packsSent(colo, anonymousId)).toBe(2);
    expect(await eventCount(userId, messages.length)).toBe(messages.length);
  });

  it("keeps a refused message of a packed request in quarantine with its reason", async () => {
    const colo = uid("C");
    const marker = uid("refused");
    const res = await track(colo, { anonymousId: uid("anon"), event: 42, properties: { marker } });
    expect(res.status).toBe(400);
    const refused = await eventually(async () => {
      const list = (await (await admin("/v1/admin/quarantine?limit=200")).json()) as { items: { raw: string; reason: string; errors: { field: string }[] }[] };
      return list.items.find((q) => q.raw.includes(marker));
    }, "the quarantined message");
    expect(refused.reason).toBe("validation_failed");
    expect(refused.errors[0]!.field).toBe("event");
  });
});

describe("several event queues", () => {
  it("names every events queue of the deployment, and each is consumed by the pipeline", async () => {
    expect(readConfig(env).eventQueues).toBe(2);
    expect(roleOfQueue(env, "rapport-events")).toBe("events");
    expect(roleOfQueue(env, "rapport-events-1")).toBe("events");
    // A numbered events queue is consumed even when ingest no longer sends to it (EVENT_QUEUES lowered).
    expect(roleOfQueue(env, "rapport-events-2")).toBe("events");
    for (const other of ["rapport-events-01", "rapport-events-100", "rapport-events-1x", "rapport-events-dlq-1"]) expect(roleOfQueue(env, other), other).toBeUndefined();
    // Shoppers on each queue: both reach their profiles.
    const byQueue = new Map<number, string>();
    while (byQueue.size < 2) {
      const anonymousId = uid("anon");
      byQueue.set(placeOf(anonymousId, 2), anonymousId);
    }
    for (const [queue, anonymousId] of byQueue) {
      const userId = `q${queue}-${anonymousId}`;
      expect((await track(uid("C"), { anonymousId, userId, event: "Product Viewed", properties: { product_id: "p" } })).status).toBe(200);
      expect(await eventCount(userId, 1)).toBe(1);
    }
  });
});

describe("packed requests of many shoppers", () => {
  it("every shopper's events reach their one profile, however the requests interleave in packs", async () => {
    const colo = uid("C");
    const shoppers = Array.from({ length: 30 }, () => ({ anonymousId: uid("anon"), userId: uid("shopper") }));
    const messages = shoppers.flatMap((s, i) => [
      { path: "page", body: { anonymousId: s.anonymousId, name: "Home", messageId: `${s.userId}-1`, timestamp: new Date(Date.now() - 3_000).toISOString() } },
      { path: "identify", body: { anonymousId: s.anonymousId, userId: s.userId, traits: { email: `${s.userId}@example.com` }, messageId: `${s.userId}-2`, timestamp: new Date(Date.now() - 2_000).toISOString() } },
      { path: "track", body: { userId: s.userId, event: "Product Viewed", properties: { product_id: `p${i}` }, messageId: `${s.userId}-3`, timestamp: new Date(Date.now() - 1_000).toISOString() } },
    ]);
    // Shuffled: the requests of a shopper arrive in any order, packed with others'.
    messages.sort(() => Math.random() - 0.5);
    const send = (m: (typeof messages)[number]) => {
      const request = new Request(`http://rapport.test/v1/${m.path}`, { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json" }, body: JSON.stringify(m.body), cf: { colo } } as RequestInit);
      return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, createExecutionContext());
    };
    const answers = await Promise.all(messages.map(send));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    for (const s of shoppers) expect(await eventCount(s.userId, 3), s.userId).toBe(3);
  });
});
