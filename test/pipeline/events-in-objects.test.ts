/**
 * Customers' events live in their own Durable Objects (docs/scaling.md): the pipeline stores
 * them there before it applies them, and the objects decide what is a duplicate. Rows from before
 * (their events in D1) hand them over the first time a batch touches them.
 */
import { env } from "cloudflare:workers";
import { shards } from "../../src/db/shards";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { mergeCustomers } from "../../src/pipeline/merge-customers";
import { loadCustomerEvents } from "../../src/profiles/events";
import { loadProfile } from "../../src/profiles/store";
import { api, bearer, KEYS, profileWhen, uid, ownerOf, dbOf } from "../helpers";

const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s)).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: at(0), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });
const idOf = async (userId: string) => (await ownerOf(`user_id:${userId}`))!;
const row = (id: string) => dbOf(id).prepare("SELECT event_seq AS seq, recent_events AS text, chunk_count AS chunks FROM customers WHERE id = ?").bind(id).first<{ seq: number | null; text: string; chunks: number }>();
const chunkRows = async (id: string) => (await dbOf(id).prepare("SELECT COUNT(*) AS n FROM event_chunks WHERE customer_id = ?").bind(id).first<{ n: number }>())!.n;

/**
 * Puts a customer back in the layout from before events moved into the objects: its events in its
 * row (the latest) and in an event_chunks row (the older ones), none in its object.
 */
async function asBefore(customerId: string, events: StoredEvent[]): Promise<void> {
  const [older, latest] = [events.slice(0, 1), events.slice(1)];
  await env.SESSIONS.getByName(customerId).clear();
  await dbOf(customerId).batch([
    dbOf(customerId).prepare("UPDATE customers SET event_seq = NULL, recent_events = ?, recent_ids = ?, recent_length = ?, chunk_count = 1 WHERE id = ?").bind(JSON.stringify(latest), JSON.stringify(latest.map((e) => e.messageId)), JSON.stringify(latest).length, customerId),
    dbOf(customerId).prepare("INSERT INTO event_chunks (customer_id, received_at, min_ts, max_ts, message_ids, events) VALUES (?, ?, 0, 0, ?, ?)").bind(customerId, Date.now(), JSON.stringify(older.map((e) => e.messageId)), JSON.stringify(older)),
  ]);
}

describe("events in the customer's object", () => {
  it("counts an event whose id an earlier event carries as a property, and drops real duplicates", async () => {
    const userId = uid();
    const first = ev({ type: "track", userId, event: "Email Opened", timestamp: at(1), properties: { messageId: `esp-${userId}` } });
    await processEvents(env, [first]);
    const second = ev({ type: "track", userId, event: "Clicked", messageId: `esp-${userId}`, timestamp: at(2) });
    expect((await processEvents(env, [second])).duplicates).toBe(0);
    expect((await processEvents(env, [second, first], { redelivered: true })).duplicates).toBe(2);
    expect((await profileWhen(userId, (p) => p.eventCount === 2)).eventCount).toBe(2);
  });

  it("keeps every batch's events, none in D1, with ids that need escaping, and serves them newest first", async () => {
    const userId = uid();
    const ids = [`a"${userId}`, `b\\${userId}`, `c\u00e9${userId}`];
    for (const [i, messageId] of ids.entries()) await processEvents(env, [ev({ type: "track", userId, event: "Step", messageId, timestamp: at(i) })]);
    expect((await processEvents(env, ids.map((messageId, i) => ev({ type: "track", userId, event: "Step", messageId, timestamp: at(i) })), { redelivered: true })).duplicates).toBe(3);
    const id = await idOf(userId);
    expect((await loadCustomerEvents(env, id)).map((e) => e.messageId)).toEqual([...ids].reverse());
    expect(await row(id)).toEqual({ seq: 3, text: "[]", chunks: 0 });
    const page = (await (await api(`/v1/customers/${encodeURIComponent(userId)}/events?limit=2`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: StoredEvent[] };
    expect(page.events.map((e) => e.messageId)).toEqual([ids[2], ids[1]]);
  });

  it("moves a row's events into its object the first time a batch touches it, and still drops their duplicates", async () => {
    const userId = uid();
    const before = [0, 1, 2].map((i) => ev({ type: "track", userId, event: "Old", timestamp: at(i) }));
    await processEvents(env, before);
    const id = await idOf(userId);
    await asBefore(id, before);
    // Nothing moved yet: the events are read from D1.
    expect((await loadCustomerEvents(env, id)).map((e) => e.messageId).sort()).toEqual(before.map((e) => e.messageId).sort());
    const later = ev({ type: "track", userId, event: "New", timestamp: at(5) });
    const stats = await processEvents(env, [before[0]!, before[2]!, later]);
    expect(stats.duplicates).toBe(2);
    expect((await loadProfile(shards(env), id))!.state.counters.events).toEqual({ Old: 3, New: 1 });
    const moved = await row(id);
    expect(moved).toMatchObject({ text: "[]", chunks: 0 });
    expect(moved!.seq).toBeGreaterThan(0);
    expect(await chunkRows(id)).toBe(0);
    expect((await loadCustomerEvents(env, id)).map((e) => e.messageId)).toEqual([later, ...[...before].reverse()].map((e) => e.messageId));
  });

  it("gives a merged profile the events of both customers, and counts a redelivered event of the absorbed one once", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    const known = ev({ type: "track", userId, event: "Known", timestamp: at(1) });
    const anonymous = ev({ type: "page", anonymousId, name: "Home", timestamp: at(2) });
    await processEvents(env, [known]);
    await processEvents(env, [anonymous]);
    const link = ev({ type: "identify", userId, anonymousId, timestamp: at(3) });
    // The anonymous customer's page view comes again in the batch that merges it.
    const stats = await processEvents(env, [anonymous, link], { redelivered: true });
    expect(stats.merges).toBe(1);
    const profile = await profileWhen(userId, (p) => p.eventCount === 3);
    expect(profile.eventCount).toBe(3);
    expect((await loadCustomerEvents(env, profile.id)).map((e) => e.messageId).sort()).toEqual([known, anonymous, link].map((e) => e.messageId).sort());
    // And later, alone: still a duplicate.
    expect((await processEvents(env, [anonymous], { redelivered: true })).duplicates).toBe(1);
    expect((await loadProfile(shards(env), profile.id))!.state.eventCount).toBe(3);
  });

  it("merges a customer whose row still held its events into one whose events moved", async () => {
    const [a, b] = [uid(), uid("anon")];
    const mine = [ev({ type: "identify", userId: a, traits: { email: `${a}@example.com` }, timestamp: at(1) })];
    // An anonymous visitor the duplicate scan (or an admin) decides is the same person.
    const theirs = [0, 1].map((i) => ev({ type: "track", anonymousId: b, event: "Theirs", timestamp: at(2 + i) }));
    await processEvents(env, [...mine, ...theirs]);
    const idB = (await ownerOf(`anonymous_id:${b}`))!;
    const idA = await idOf(a);
    await asBefore(idB, theirs);
    const outcome = await mergeCustomers(env, [idA, idB], { reason: "test" });
    expect(outcome.merged).toBe(true);
    const survivor = outcome.merged ? outcome.survivorId : "";
    expect((await loadCustomerEvents(env, survivor)).map((e) => e.messageId).sort()).toEqual([...mine, ...theirs].map((e) => e.messageId).sort());
    expect(await chunkRows(idB)).toBe(0);
    // The absorbed customer's events are not new to the survivor.
    expect((await processEvents(env, theirs, { redelivered: true })).duplicates).toBe(2);
    expect((await loadProfile(shards(env), survivor))!.state.eventCount).toBe(3);
  });
});
