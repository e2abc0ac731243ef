import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { identity } from "../../src/model/identity";
import { emptyProfile } from "../../src/profiles/apply";
import { toDocument } from "../../src/profiles/document";
import { servedIdentity } from "../../src/profiles/read";
import { api, bearer, eventually, getCustomer, KEYS, profileWhen, uid, ownerOf, dbOf, allEverywhere, countEverywhere } from "../helpers";

const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s)).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(0), receivedAt: at(0), sourceId: "key_test", ...p });

async function seedCustomer() {
  const userId = uid();
  const anonymousId = uid("anon");
  const email = `${userId}@Example.COM`;
  await processEvents(env, [ev({ type: "identify", userId, anonymousId, traits: { email, firstName: "Ada" }, timestamp: at(1) }), ev({ type: "track", userId, event: "Order Completed", timestamp: at(2) })]);
  const profile = await profileWhen(userId, () => true);
  return { userId, anonymousId, email, profile };
}

describe("GET /v1/customers/{id}", () => {
  it("finds the same customer by userId, master id, anonymous_id:, email: and user_id:", async () => {
    const { userId, anonymousId, email, profile } = await seedCustomer();
    for (const ref of [userId, profile.id, `anonymous_id:${anonymousId}`, `email:${email.toUpperCase()}`, `user_id:${userId}`]) {
      const res = await getCustomer(ref);
      expect(res.status, ref).toBe(200);
      expect(((await res.json()) as any).id).toBe(profile.id);
    }
    // The email trait is normalized (trimmed, lower-cased).
    expect(profile).toMatchObject({ userId, email: email.toLowerCase(), traits: { firstName: "Ada", email: email.toLowerCase() }, eventCount: 2, firstSeenAt: at(1), lastSeenAt: at(2), counters: { types: { identify: 1, track: 1 }, events: { "Order Completed": 1 } } });
  });

  it("sends an ETag and answers 304 to If-None-Match", async () => {
    const { userId } = await seedCustomer();
    const res = await getCustomer(userId);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^W\/".+"$/);
    expect(res.headers.get("cache-control")).toContain("private");
    const again = await getCustomer(userId, KEYS.read, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    await processEvents(env, [ev({ type: "track", userId, event: "More" })]);
    // The snapshot follows within a second (KV's one write per second per key).
    const changed = await eventually(async () => {
      const res = await getCustomer(userId, KEYS.read, { "if-none-match": etag! });
      return res.status === 200 && res;
    }, "a changed profile");
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("serves from D1 when the KV snapshot is missing", async () => {
    const { userId, profile } = await seedCustomer();
    await env.PROFILES.delete(`customer:${profile.id}`);
    await env.PROFILES.delete(`identity:user_id:${userId}`);
    const res = await getCustomer(userId);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-rapport-source")).toBe("d1");
    const body = (await res.json()) as any;
    expect({ ...body, updatedAt: null }).toEqual({ ...profile, updatedAt: null });
  });

  it("keeps the newest trait by event time, whatever the arrival order", async () => {
    const userId = uid();
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "pro" }, timestamp: at(30) })]);
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "free", city: "Paris" }, timestamp: at(10) })]);
    const profile = await profileWhen(userId, (p) => p.eventCount === 2);
    expect(profile.traits).toEqual({ plan: "pro", city: "Paris" });
    expect(profile.traitsUpdatedAt.plan).toBe(at(30));
  });

  it("answers 404 problem+json for an unknown customer", async () => {
    const res = await getCustomer(uid("missing"));
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as any).requestId).toBeTruthy();
  });
});

describe("GET /v1/customers/{id}: security", () => {
  it("answers 401 without a valid read key, the same whether or not the customer exists", async () => {
    const { userId } = await seedCustomer();
    const missing = uid("missing");
    for (const auth of [undefined, bearer("rk_wrong"), bearer(KEYS.write), `Basic ${btoa(`${KEYS.write}:`)}`]) {
      const bodies = [];
      for (const ref of [userId, missing]) {
        const res = await api(`/v1/customers/${ref}`, { headers: auth ? { authorization: auth } : {} });
        expect(res.status).toBe(401);
        const { requestId, instance, ...rest } = (await res.json()) as any;
        bodies.push(rest);
      }
      expect(bodies[0]).toEqual(bodies[1]);
    }
  });

  it("accepts an admin key for reads", async () => {
    const { userId } = await seedCustomer();
    expect((await getCustomer(userId, KEYS.admin)).status).toBe(200);
  });
});

describe("GET /v1/customers/{id}/events", () => {
  it("pages through events newest first, each with its messageId", async () => {
    const userId = uid();
    const events = Array.from({ length: 7 }, (_, i) => ev({ type: "track", userId, event: `E${i}`, messageId: `${userId}-m${i}`, timestamp: at(i) }));
    await processEvents(env, events.slice(0, 4));
    await processEvents(env, events.slice(4));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(`/v1/customers/${userId}/events?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: bearer(KEYS.read) } });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { events: StoredEvent[]; nextCursor: string | null };
      seen.push(...page.events.map((e) => e.messageId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(events.map((e) => e.messageId).reverse());
  });

  it("rejects a bad cursor or limit naming the parameter", async () => {
    const { userId } = await seedCustomer();
    const res = await api(`/v1/customers/${userId}/events?limit=0`, { headers: { authorization: bearer(KEYS.read) } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].field).toBe("limit");
    const bad = await api(`/v1/customers/${userId}/events?cursor=zzz`, { headers: { authorization: bearer(KEYS.read) } });
    expect(((await bad.json()) as any).errors[0].field).toBe("cursor");
  });

  it("requires a read key", async () => {
    const { userId } = await seedCustomer();
    expect((await api(`/v1/customers/${userId}/events`)).status).toBe(401);
  });
});

describe("profile storage", () => {
  it("writes no KV snapshot for customers nobody has read, and serves them from D1", async () => {
    const anonymousId = uid("anon");
    const stats = await processEvents(env, [ev({ type: "page", anonymousId }), ev({ type: "track", anonymousId, event: "Product Viewed" })]);
    expect(stats.kvWrites).toBe(0);
    const res = await getCustomer(`anonymous_id:${anonymousId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-rapport-source")).toBe("d1");
    expect(((await res.json()) as any).eventCount).toBe(2);
  });

  it("keeps a busy customer's events in its object, a chunk per batch, none in D1, and still deduplicates and lists them all", async () => {
    const userId = uid();
    const padding = "x".repeat(400);
    const events = Array.from({ length: 300 }, (_, i) => ev({ type: "track", userId, event: "Busy", messageId: `${userId}-${i}`, timestamp: at(i % 60), properties: { padding } }));
    for (let i = 0; i < 300; i += 50) await processEvents(env, events.slice(i, i + 50));
    const id = (await ownerOf(`user_id:${userId}`))!;
    const row = await dbOf(id).prepare("SELECT id, chunk_count, recent_events FROM customers WHERE id = ?").bind(id).first<{ id: string; chunk_count: number; recent_events: string }>();
    expect(row).toMatchObject({ chunk_count: 0, recent_events: "[]" });
    const chunks = await runInDurableObject(env.SESSIONS.getByName(row!.id), (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM event_chunks").one().n);
    expect(chunks).toBe(6);
    // Every event again: all are duplicates, wherever they are stored.
    const again = await processEvents(env, events);
    expect(again.duplicates).toBe(300);
    const profile = await profileWhen(userId, () => true);
    expect(profile.eventCount).toBe(300);
    const page = (await (await api(`/v1/customers/${userId}/events?limit=500`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: StoredEvent[] };
    expect(new Set(page.events.map((e) => e.messageId)).size).toBe(300);
  });
});

describe("profile storage, many customers in one batch", () => {
  it("stores each customer's own events when a batch writes hundreds of customers, some of them busy", async () => {
    // More customers than one statement binds parameters, and three busy customers.
    const run = uid("many");
    const padding = "y".repeat(600);
    const events: StoredEvent[] = [];
    for (let c = 0; c < 250; c++) {
      const busy = c % 100 === 7;
      for (let i = 0; i < (busy ? 120 : 2); i++) events.push(ev({ type: "track", userId: `${run}-${c}`, event: `Viewed ${c}`, messageId: `${run}-${c}-${i}`, timestamp: at(i % 60), properties: { customer: c, i, ...(busy ? { padding } : {}) } }));
    }
    const stats = await processEvents(env, events);
    expect(stats.customersChanged).toBe(250);
    for (const c of [0, 7, 98, 99, 107, 200, 207, 249]) {
      const page = (await (await api(`/v1/customers/${run}-${c}/events?limit=500`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: StoredEvent[] };
      const expected = c % 100 === 7 ? 120 : 2;
      expect(page.events.length, `customer ${c}`).toBe(expected);
      expect(page.events.every((e) => e.userId === `${run}-${c}` && e.event === `Viewed ${c}` && (e.properties as { customer: number }).customer === c), `customer ${c}`).toBe(true);
    }
    // None in D1: each customer's are in its own object.
    const ids = (await allEverywhere<{ id: string }>("SELECT customer_id AS id FROM identities WHERE key LIKE ?", `user_id:${run}-%`)).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(await countEverywhere("SELECT count(*) AS n FROM customers WHERE (chunk_count > 0 OR recent_events != '[]' OR event_seq IS NULL) AND id IN (SELECT value FROM json_each(?))", JSON.stringify(ids))).toBe(0);
    // Redelivered whole: nothing counts twice.
    expect((await processEvents(env, events)).duplicates).toBe(events.length);
  });
});

describe("identifier lookups", () => {
  it("writes the identifier → customer entry to KV on first lookup, not at ingest", async () => {
    const userId = uid();
    await processEvents(env, [ev({ type: "identify", userId, traits: { email: `${userId}@example.com` } })]);
    expect(await env.PROFILES.get(`identity:user_id:${userId}`)).toBeNull();
    const res = await getCustomer(`email:${userId}@example.com`);
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as any;
    // Written after the response (waitUntil).
    await eventually(async () => (await env.PROFILES.get(`identity:email:${userId}@example.com`)) === id, "identity entry in KV");
    expect(await env.PROFILES.get(`identity:user_id:${userId}`)).toBeNull();
  });
});

describe("servedIdentity (is a remembered owner still right?)", () => {
  const doc = JSON.stringify({
    ...toDocument("cus_1", { ...emptyProfile(), traits: { nickname: "anon-ghost", note: "x@y.com" } }, [identity("user_id", "u-1"), identity("anonymous_id", "anon-1"), identity("email", "Ada@Example.com"), identity("external", "shopify:42")], 3, 0),
    session: null,
  });
  it("finds each kind of identifier in its own list", () => {
    for (const i of [identity("user_id", "u-1"), identity("anonymous_id", "anon-1"), identity("email", "ada@example.com"), identity("external", "shopify:42")]) expect(servedIdentity(doc, i), i.key).toBe(true);
  });
  it("does not take a trait, another list or a prefix for the identifier", () => {
    for (const i of [identity("anonymous_id", "anon-ghost"), identity("email", "x@y.com"), identity("anonymous_id", "u-1"), identity("user_id", "u-"), identity("external", "shopify:4"), identity("external", "other:42")]) expect(servedIdentity(doc, i), i.key).toBe(false);
  });
});
