import { runBatch } from "../../src/db/statements";
import { shards } from "../../src/db/shards";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, bearer, eventually, getCustomer, ingest, KEYS, profileWhen, uid, countEverywhere, dbOf } from "../helpers";
import { suppressionHash } from "../../src/kernel/suppression-hash";

const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });

async function seedPerson() {
  const userId = uid();
  const anonymousId = uid("anon");
  const email = `${userId}@example.com`;
  // Each person gets their own number: a suppressed one would (rightly) drop later events.
  const phone = `+336${String(Math.floor(Math.random() * 1e8)).padStart(8, "1")}`;
  const events = [
    ev({ type: "page", anonymousId }),
    ev({ type: "identify", userId, anonymousId, traits: { email, phone, firstName: "Ada" } }),
    ev({ type: "track", userId, event: "Order Completed" }),
  ];
  // Anonymous browsing first, then the identify merges it into the known customer: the erasure
  // must also remove the merge record (which keeps the merged-away profile).
  await processEvents(env, [events[2]!]);
  await processEvents(env, [events[0]!]);
  await processEvents(env, [events[1]!]);
  const profile = await profileWhen(userId, () => true); // served: it now has a KV snapshot
  await eventually(async () => (await env.PROFILES.get(`customer:${profile.id}`)) !== null, "snapshot");
  const byEmail = await getCustomer(`email:${email}`); // and an identifier entry in KV
  if (byEmail.status !== 200) throw new Error(`email lookup: ${byEmail.status} ${await byEmail.text()}`);
  await eventually(async () => (await env.PROFILES.get(`identity:email:${email}`)) !== null, "identity entry");
  // A refused message that mentions the person.
  await ingest("/v1/track", { properties: { email } });
  await eventually(async () => (await env.DB.prepare("SELECT count(*) AS n FROM quarantine WHERE instr(raw, ?) > 0").bind(email).first<{ n: number }>())!.n > 0, "quarantined");
  return { userId, anonymousId, email, phone, profile, events };
}

async function residue(customerId: string, keys: string[], email: string) {
  const one = async (q: string, ...args: unknown[]) => (await env.DB.prepare(q).bind(...args).first<{ n: number }>())!.n;
  const kv = await Promise.all([env.PROFILES.get(`customer:${customerId}`), ...keys.map((k) => env.PROFILES.get(`identity:${k}`))]);
  return {
    customers: await countEverywhere("SELECT count(*) AS n FROM customers WHERE id = ?", customerId),
    identities: await countEverywhere("SELECT count(*) AS n FROM identities WHERE customer_id = ? OR key IN (SELECT value FROM json_each(?))", customerId, JSON.stringify(keys)),
    eventChunks: await countEverywhere("SELECT count(*) AS n FROM event_chunks WHERE customer_id = ?", customerId),
    quarantine: await one("SELECT count(*) AS n FROM quarantine WHERE instr(raw, ?) > 0", email),
    merges: await countEverywhere("SELECT count(*) AS n FROM merges WHERE survivor_id = ? OR instr(merged_profile, ?) > 0", customerId, email),
    kv: kv.filter((v) => v !== null).length,
  };
}

describe("erasure", () => {
  it("deletes everything held about the person, and leaves no residue", async () => {
    const { userId, email, phone, profile } = await seedPerson();
    const keys = [`user_id:${userId}`, `email:${email}`, `phone:${phone}`, ...profile.identities.anonymousIds.map((a: string) => `anonymous_id:${a}`)];
    const res = await admin(`/v1/customers/${userId}?reason=GDPR%20request`, { method: "DELETE" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ erased: true, customerId: profile.id, events: 3 });
    expect(body.identities.sort()).toEqual(keys.sort());
    expect(await residue(profile.id, keys, email)).toEqual({ customers: 0, identities: 0, eventChunks: 0, quarantine: 0, merges: 0, kv: 0 });
    expect((await getCustomer(userId)).status).toBe(404);
    expect((await getCustomer(`email:${email}`)).status).toBe(404);
    expect((await admin(`/v1/customers/${profile.id}/export`)).status).toBe(404);
  });

  it("takes the person's events out of stored dead letters, and keeps everyone else's", async () => {
    const { userId, anonymousId, email, profile } = await seedPerson();
    const other = uid("other");
    const pack = (id: string, events: StoredEvent[], rejected: { raw: string }[] = []) =>
      JSON.stringify({ v: 1, packId: id, receivedAt: new Date().toISOString(), sourceId: "key_test", events, rejected: rejected.map((r, i) => ({ id: `qr-${i}`, endpoint: "/v1/track", reason: "validation_failed", errors: [], truncated: false, ...r })) });
    const letters = {
      mixed: pack(uid("pk"), [ev({ type: "track", userId, event: "Product Viewed" }), ev({ type: "track", userId: other, event: "Product Viewed" })]),
      onlyTheirs: pack(uid("pk"), [ev({ type: "page", anonymousId }), ev({ type: "track", userId: other, event: "X", context: { traits: { email } } })], [{ raw: JSON.stringify({ properties: { email } }) }]),
      unrelated: pack(uid("pk"), [ev({ type: "track", userId: other, event: "Y" })]),
      garbage: JSON.stringify(`not a pack, but it says ${email}`),
    };
    for (const [id, body] of Object.entries(letters)) {
      await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, received_at) VALUES (?, 'rapport-events-dlq', ?, 5, ?)").bind(`${id}-${userId}`, body, Date.now()).run();
    }
    const res = await admin(`/v1/customers/${userId}`, { method: "DELETE" });
    expect(((await res.json()) as { deadLetters: number }).deadLetters).toBe(3);
    const stored = async (id: string) => (await env.DB.prepare("SELECT body FROM dead_letters WHERE id = ?").bind(`${id}-${userId}`).first<{ body: string }>())?.body ?? null;
    const mixed = JSON.parse((await stored("mixed"))!);
    expect(mixed.events.map((e: StoredEvent) => e.userId)).toEqual([other]);
    expect(await stored("onlyTheirs")).toBeNull();
    expect(await stored("garbage")).toBeNull();
    expect(await stored("unrelated")).toBe(letters.unrelated);
    for (const id of ["mixed", "unrelated"]) {
      const body = (await stored(id))!;
      for (const value of [userId, anonymousId, email, profile.id]) expect(body).not.toContain(value);
    }
  });

  it("does not let replayed or late events recreate the person, until the suppression is lifted", async () => {
    const { userId, anonymousId, events } = await seedPerson();
    await admin(`/v1/customers/${userId}`, { method: "DELETE" });
    const replay = await processEvents(env, events);
    expect(replay.suppressed).toBe(3);
    const late = await processEvents(env, [ev({ type: "page", anonymousId })]);
    expect(late.suppressed).toBe(1);
    expect((await getCustomer(userId)).status).toBe(404);
    expect((await getCustomer(`anonymous_id:${anonymousId}`)).status).toBe(404);

    const listed = (await (await admin("/v1/admin/suppressions")).json()) as any;
    // Listed by keyed hash: the identifier itself is not kept.
    expect(listed.items.map((s: any) => s.key)).toContain(suppressionHash("ssec_local_demo", `user_id:${userId}`));
    expect(JSON.stringify(listed)).not.toContain(userId);
    // Lifted by the identifier (hashed to find it).
    expect((await admin(`/v1/admin/suppressions/${encodeURIComponent(`user_id:${userId}`)}`, { method: "DELETE" })).status).toBe(200);
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "new start" } })]);
    const again = await profileWhen(userId, () => true);
    expect(again.traits).toEqual({ plan: "new start" });
    expect(again.eventCount).toBe(1);
  });

  it("makes a consumer that read the person before the erasure fail, rather than recreate them", async () => {
    const { profileStatements, loadProfile } = await import("../../src/profiles/store");
    const { userId, profile } = await seedPerson();
    const before = (await loadProfile(shards(env), profile.id))!;
    await admin(`/v1/customers/${userId}`, { method: "DELETE" });
    const stale = profileStatements(dbOf(profile.id), [{ customerId: profile.id, previousVersion: before.version, state: before.state, identities: before.identities, newIdentities: [], eventSeq: before.eventSeq, absorbed: {}, rowHeldEvents: false, segments: {}, scores: null, servedAt: before.servedAt, sessionAt: null, createdAt: before.createdAt, now: Date.now() }]);
    await expect(runBatch(dbOf(profile.id), stale)).rejects.toThrow(/rapport_version_conflict/);
    // As the pipeline commits: new identities with their suppression hashes (the guard compares them).
    const { keyHashOf } = await import("../../src/pipeline/commit");
    const { claimStatements } = await import("../../src/profiles/store");
    const key = `user_id:${userId}`;
    const shard = shards(env).of(key);
    const newPerson = claimStatements(shard, [{ customerId: "cus_000000000000000000000000000a", identity: { key, kind: "user_id", value: userId } }], Date.now(), keyHashOf(env));
    await expect(runBatch(shard, newPerson)).rejects.toThrow(/rapport_suppressed/);
  });

  it("needs an admin key, and answers 404 for an unknown customer", async () => {
    const { userId } = await seedPerson();
    for (const key of [KEYS.read, KEYS.write]) {
      expect((await api(`/v1/customers/${userId}`, { method: "DELETE", headers: { authorization: bearer(key) } })).status).toBe(401);
      expect((await api(`/v1/customers/${userId}/export`, { headers: { authorization: bearer(key) } })).status).toBe(401);
    }
    expect((await admin(`/v1/customers/${uid("nobody")}`, { method: "DELETE" })).status).toBe(404);
    expect((await getCustomer(userId)).status).toBe(200);
  });
});

describe("export", () => {
  it("returns the profile and every stored event", async () => {
    const { userId, events, profile } = await seedPerson();
    const res = await admin(`/v1/customers/${userId}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain(`${profile.id}.json`);
    const data = (await res.json()) as any;
    expect(data.profile.id).toBe(profile.id);
    expect(data.profile.traits.firstName).toBe("Ada");
    expect(data.events.map((e: StoredEvent) => e.messageId).sort()).toEqual(events.map((e) => e.messageId).sort());
  });
});

describe("consent", () => {
  it("keeps the latest context.consent.categoryPreferences by event time", async () => {
    const userId = uid();
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    await processEvents(env, [
      ev({ type: "track", userId, event: "A", timestamp: t(20), context: { consent: { categoryPreferences: { Advertising: false, Analytics: true } } } }),
      ev({ type: "page", userId, timestamp: t(10), context: { consent: { categoryPreferences: { Advertising: true } } } }),
    ]);
    const profile = await profileWhen(userId, () => true);
    expect(profile.consent).toEqual({ categoryPreferences: { Advertising: false, Analytics: true }, updatedAt: t(20) });
  });

  it("a later consent object with no true/false value in it (\"true\" from a CSV, say) does not wipe the preferences", async () => {
    const userId = uid();
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    await processEvents(env, [
      ev({ type: "track", userId, event: "A", timestamp: t(10), context: { consent: { categoryPreferences: { personalization: false } } } }),
      ev({ type: "identify", userId, timestamp: t(20), context: { consent: { categoryPreferences: { personalization: "true" } } } }),
    ]);
    const profile = await profileWhen(userId, () => true);
    expect(profile.consent).toEqual({ categoryPreferences: { personalization: false }, updatedAt: t(10) });
  });
});
