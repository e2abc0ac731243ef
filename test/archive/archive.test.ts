import { describe, expect, it } from "vitest";
import { shards } from "../../src/db/shards";
import { gunzipLines, hourPrefix } from "../../src/archive/writer";
import { loadProfile } from "../../src/profiles/store";
import { admin, env, eventually, ingest, uid, ownerOf, runEverywhere } from "../helpers";

async function customerOf(userId: string): Promise<string | null> {
  return (await ownerOf(`user_id:${userId}`)) ?? null;
}

/** What replay must give back: the profile as its events make it. */
async function stateOf(userId: string) {
  const id = await customerOf(userId);
  const p = id ? await loadProfile(shards(env), id) : null;
  if (!p) return null;
  const { traits, traitTimes, counters, eventCount, firstSeenAt, lastSeenAt, computed } = p.state;
  return { traits, traitTimes, counters, eventCount, firstSeenAt, lastSeenAt, computed, identities: p.identities.map((i) => i.key).sort() };
}

async function waitForReplay(id: string) {
  return eventually(async () => {
    const r = (await (await admin(`/v1/admin/archive/replays/${id}`)).json()) as { finishedAt: string | null; events: number; objects: number };
    return r.finishedAt ? r : null;
  }, `replay ${id}`, 20_000);
}

describe("raw event archive", () => {
  it("keeps every accepted event in R2 as gzip NDJSON partitioned by day and hour, and a replay rebuilds deleted profiles exactly, idempotently", async () => {
    const [ada, bob] = [uid("ada"), uid("bob")];
    const anon = uid("anon");
    const batch = [
      { type: "page", anonymousId: anon, name: "Home", messageId: uid("m") },
      { type: "track", anonymousId: anon, event: "Product Viewed", properties: { product_id: "p1", category: "shoes" }, messageId: uid("m") },
      { type: "identify", anonymousId: anon, userId: ada, traits: { email: `${ada}@example.com`, firstName: "Ada" }, messageId: uid("m") },
      { type: "track", userId: ada, event: "Order Completed", properties: { revenue: 42, currency: "EUR" }, messageId: uid("m") },
      { type: "identify", userId: bob, traits: { plan: "pro" }, messageId: uid("m") },
    ];
    expect((await ingest("/v1/batch", { batch })).status).toBe(200);
    const before = await eventually(async () => {
      const [a, b] = [await stateOf(ada), await stateOf(bob)];
      return a?.eventCount === 4 && b?.eventCount === 1 ? { a, b } : null;
    }, "profiles built");

    // In the archive, under this hour's partition.
    const objects = await eventually(async () => {
      const listed = await env.ARCHIVE.list({ prefix: hourPrefix(Date.now()) });
      const found = [];
      for (const o of listed.objects) {
        const events = await gunzipLines((await env.ARCHIVE.get(o.key))!.body);
        if (events.some((e) => e.userId === bob)) found.push({ key: o.key, events });
      }
      return found.length > 0 ? found : null;
    }, "archived");
    expect(objects[0]!.key).toMatch(/^events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[0-9a-f]{32}\.ndjson\.gz$/);
    const archivedIds = new Set(objects.flatMap((o) => o.events.map((e) => e.messageId)));
    for (const m of batch) expect(archivedIds.has(m.messageId)).toBe(true);
    const today = new Date().toISOString().slice(0, 10);
    const listing = (await (await admin(`/v1/admin/archive?day=${today}`)).json()) as { objects: { key: string; events: number }[] };
    expect(listing.objects.find((o) => o.key === objects[0]!.key)?.events).toBe(objects[0]!.events.length);

    // Lose the D1 state of these people, then replay the day.
    const ids = [await customerOf(ada), await customerOf(bob)];
    for (const id of ids) {
      for (const q of ["DELETE FROM identities WHERE customer_id = ?1", "DELETE FROM event_chunks WHERE customer_id = ?1", "DELETE FROM customers WHERE id = ?1"]) await runEverywhere(q, id);
    }
    expect(await stateOf(ada)).toBeNull();
    const res = await admin("/v1/admin/archive/replays", { method: "POST", body: JSON.stringify({ from: today, to: today }) });
    expect(res.status).toBe(202);
    const replay = await waitForReplay(((await res.json()) as { id: string }).id);
    expect(replay.events).toBeGreaterThanOrEqual(batch.length);
    const after = await eventually(async () => {
      const [a, b] = [await stateOf(ada), await stateOf(bob)];
      return a?.eventCount === 4 && b?.eventCount === 1 ? { a, b } : null;
    }, "profiles rebuilt");
    expect(after).toEqual(before);

    // Again, over the existing state: nothing counts twice.
    const again = await admin("/v1/admin/archive/replays", { method: "POST", body: JSON.stringify({ from: today, to: today }) });
    await waitForReplay(((await again.json()) as { id: string }).id);
    await new Promise((r) => setTimeout(r, 500));
    expect(await stateOf(ada)).toEqual(before.a);
  });

  it("loses an erased customer's events: archived objects are rewritten without them", async () => {
    const [gone, stays] = [uid("gone"), uid("stays")];
    const batch = [
      { type: "identify", userId: gone, traits: { email: `${gone}@example.com` }, messageId: uid("m") },
      { type: "track", userId: gone, event: "Product Viewed", properties: { product_id: "p" }, messageId: uid("m") },
      { type: "identify", userId: stays, traits: { plan: "pro" }, messageId: uid("m") },
    ];
    expect((await ingest("/v1/batch", { batch })).status).toBe(200);
    const holding = async (userId: string) => {
      const found: string[] = [];
      for (const o of (await env.ARCHIVE.list({ prefix: hourPrefix(Date.now()) })).objects) {
        const events = await gunzipLines((await env.ARCHIVE.get(o.key))!.body);
        if (events.some((e) => e.userId === userId)) found.push(o.key);
      }
      return found;
    };
    await eventually(async () => (await holding(gone)).length > 0 && (await customerOf(gone)), "archived and processed");
    const res = await admin(`/v1/customers/${gone}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { archive: { to: string } }).archive.to).toBe(new Date().toISOString().slice(0, 10));
    await eventually(async () => (await holding(gone)).length === 0, "archive scrubbed");
    expect(await holding(stays)).toHaveLength(1);
    // The other person's events in the same object are still there.
    const [key] = await holding(stays);
    const kept = await gunzipLines((await env.ARCHIVE.get(key!))!.body);
    expect(kept.filter((e) => e.userId === stays)).toHaveLength(1);

    // Events that arrive after the erasure with the person's identifiers (a browser still holding
    // the id) are dropped by the pipeline, and are not archived either: the erasure stays final.
    const late = uid("m");
    const after = uid("after");
    expect((await ingest("/v1/batch", { batch: [{ type: "track", userId: gone, event: "Product Viewed", messageId: late }, { type: "identify", userId: after, traits: { plan: "free" }, messageId: uid("m") }] })).status).toBe(200);
    await eventually(async () => (await holding(after)).length > 0, "the later batch archived");
    expect(await holding(gone)).toHaveLength(0);
  });

  it("refuses a replay range that is not two dates in order", async () => {
    const res = await admin("/v1/admin/archive/replays", { method: "POST", body: JSON.stringify({ from: "2026-11-24", to: "2026-11-01" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe("to");
  });
});
