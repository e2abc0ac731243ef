import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { loadProfile } from "../../src/profiles/store";
import { processEvents } from "../../src/pipeline/process";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { findCustomer } from "../../src/profiles/read";
import { unmerge } from "../../src/pipeline/unmerge";
import { admin, api, bearer, eventually, getCustomer, KEYS, profileWhen, uid, ownerOf, countEverywhere, shardMap } from "../helpers";

let n = 0;
const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 0, 0, s)).toISOString();
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: `mm-${crypto.randomUUID()}`, timestamp: at(n++ % 50), receivedAt: at(0), sourceId: "key_test", ...p });
const idOf = async (key: string) => (await ownerOf(key)) ?? null;

describe("merges", () => {
  it("merges an anonymous visitor into the known customer when an identify links them", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "pro" }, timestamp: at(5) })]);
    await processEvents(env, [ev({ type: "page", anonymousId }), ev({ type: "track", anonymousId, event: "Product Viewed" })]);
    const anonCustomer = (await idOf(`anonymous_id:${anonymousId}`))!;
    const userCustomer = (await idOf(`user_id:${userId}`))!;
    expect(anonCustomer).not.toBe(userCustomer);

    const stats = await processEvents(env, [ev({ type: "identify", userId, anonymousId, traits: { city: "Lyon" }, timestamp: at(9) })]);
    expect(stats.merges).toBe(1);
    const profile = await profileWhen(userId, () => true);
    expect(profile.id).toBe(userCustomer);
    expect(profile.eventCount).toBe(4);
    expect(profile.traits).toEqual({ plan: "pro", city: "Lyon" });
    expect(profile.identities.anonymousIds).toEqual([anonymousId]);
    expect(await idOf(`anonymous_id:${anonymousId}`)).toBe(userCustomer);

    // The merged-away ids keep resolving to the survivor.
    for (const ref of [anonCustomer, `anonymous_id:${anonymousId}`]) {
      const res = await getCustomer(ref);
      expect(res.status, ref).toBe(200);
      expect(((await res.json()) as any).id).toBe(userCustomer);
    }
    const events = (await (await api(`/v1/customers/${anonCustomer}/events`, { headers: { authorization: bearer(KEYS.read) } })).json()) as any;
    expect(events.customerId).toBe(userCustomer);
    expect(events.events).toHaveLength(4);
    const merges = (await (await api(`/v1/customers/${userId}/merges`, { headers: { authorization: bearer(KEYS.read) } })).json()) as any;
    expect(merges.merges).toEqual([expect.objectContaining({ mergedId: anonCustomer, survivorId: userCustomer, cause: expect.objectContaining({ keys: [`anonymous_id:${anonymousId}`] }) })]);
    expect(await countEverywhere("SELECT count(*) AS n FROM customers WHERE id = ?", anonCustomer)).toBe(0);
  });

  it("merges on alias, and moves the snapshot of a served customer to the survivor", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    await processEvents(env, [ev({ type: "identify", userId })]);
    await processEvents(env, [ev({ type: "identify", anonymousId, traits: { email: `${anonymousId}@example.com` } })]);
    const anonProfile = await profileWhen(`anonymous_id:${anonymousId}`, () => true); // served: it has a snapshot
    await eventually(async () => (await env.PROFILES.get(`customer:${anonProfile.id}`)) !== null, "snapshot");
    await processEvents(env, [ev({ type: "alias", previousId: anonymousId, userId })]);
    expect(await env.PROFILES.get(`customer:${anonProfile.id}`)).toBeNull();
    const survivor = (await idOf(`user_id:${userId}`))!;
    const snapshot = await env.PROFILES.get<any>(`customer:${survivor}`, "json");
    expect(snapshot.identities.emails).toEqual([`${anonymousId}@example.com`]);
    expect(snapshot.eventCount).toBe(3);
  });

  it("refuses a merge of two customers with different userIds, and records it", async () => {
    const [u1, u2] = [uid(), uid()];
    const anonymousId = uid("anon");
    await processEvents(env, [ev({ type: "identify", userId: u1, anonymousId }), ev({ type: "identify", userId: u2 })]);
    const stats = await processEvents(env, [ev({ type: "identify", userId: u2, anonymousId, traits: { shared: "device" } })]);
    expect(stats.merges).toBe(0);
    expect(stats.refusals).toBe(1);
    expect(await idOf(`user_id:${u1}`)).not.toBe(await idOf(`user_id:${u2}`));
    expect(await idOf(`anonymous_id:${anonymousId}`)).toBe(await idOf(`user_id:${u1}`));
    const report = (await (await admin("/v1/admin/data-quality")).json()) as any;
    expect(report.identityRefusals).toEqual(expect.arrayContaining([expect.objectContaining({ rule: "limit:user_id" })]));
  });

  it("does not attach a second userId to a customer that has one", async () => {
    const [u1, u3] = [uid(), uid()];
    const anonymousId = uid("anon");
    await processEvents(env, [ev({ type: "identify", userId: u1, anonymousId })]);
    const stats = await processEvents(env, [ev({ type: "identify", userId: u3, anonymousId })]);
    expect(stats.refusals).toBe(1);
    const profile = await profileWhen(u1, () => true);
    expect(profile.identities.userIds).toEqual([u1]);
    // A userId always gets its profile: u3 is a new customer, the shared device's id stays with u1.
    const other = await profileWhen(u3, () => true);
    expect(other.id).not.toBe(profile.id);
    expect(other.identities.userIds).toEqual([u3]);
    expect(other.identities.anonymousIds).toEqual([]);
    expect(await idOf(`anonymous_id:${anonymousId}`)).toBe(profile.id);
  });

  it("gives a new userId whose email another user's profile holds a profile of its own (a family's shared email)", async () => {
    const [parent, child] = [uid("parent"), uid("child")];
    const email = `${uid("family")}@example.com`;
    await processEvents(env, [ev({ type: "identify", userId: parent, traits: { email, firstName: "Pat" } })]);
    const stats = await processEvents(env, [ev({ type: "identify", userId: child, traits: { email, firstName: "Kim" } }), ev({ type: "track", userId: child, event: "Signed Up" })]);
    expect(stats.refusals).toBe(1);
    const kid = await profileWhen(child, () => true);
    expect(kid.identities.userIds).toEqual([child]);
    // The email stays where it was; the child's own traits and events are the child's.
    expect(kid.identities.emails).toEqual([]);
    expect(kid.traits.firstName).toBe("Kim");
    expect(kid.eventCount).toBe(2);
    const grown = await profileWhen(parent, () => true);
    expect(grown.traits.firstName).toBe("Pat");
    expect(grown.eventCount).toBe(1);
    expect(await idOf(`email:${email}`)).toBe(grown.id);
    // Later events of the child find the child's profile, not the parent's.
    await processEvents(env, [ev({ type: "identify", userId: child, traits: { email, plan: "teen" } })]);
    expect((await profileWhen(child, (p) => p.traits.plan === "teen")).id).toBe(kid.id);
    expect((await profileWhen(parent, () => true)).traits.plan).toBeUndefined();
  });

  it("never links on blocked identifier values, and quarantines events that have only those", async () => {
    const a = await processEvents(env, [ev({ type: "identify", userId: "0", traits: { email: `${uid()}@a.example` } }), ev({ type: "identify", userId: "0", traits: { email: `${uid()}@b.example` } })]);
    expect(a.customers).toBe(2);
    const b = await processEvents(env, [ev({ type: "page", userId: "null", anonymousId: "anonymous" })]);
    expect(b.unattributable).toBe(1);
    const list = (await (await admin("/v1/admin/quarantine?limit=100")).json()) as any;
    expect(list.items.some((i: any) => i.reason === "blocked_identifier")).toBe(true);
  });

  it("is race-free: concurrent merges of overlapping profiles leave one survivor and lose nothing", async () => {
    const userId = uid();
    const [a, b] = [uid("anon"), uid("anon")];
    await processEvents(env, [ev({ type: "identify", userId, traits: { t0: 0 } }), ev({ type: "identify", anonymousId: a, traits: { ta: 1 } }), ev({ type: "identify", anonymousId: b, traits: { tb: 2 } })]);
    const before = [await idOf(`user_id:${userId}`), await idOf(`anonymous_id:${a}`), await idOf(`anonymous_id:${b}`)];
    expect(new Set(before).size).toBe(3);
    await Promise.all([processEvents(env, [ev({ type: "identify", userId, anonymousId: a })]), processEvents(env, [ev({ type: "identify", userId, anonymousId: b })])]);
    const survivor = await idOf(`user_id:${userId}`);
    expect(await idOf(`anonymous_id:${a}`)).toBe(survivor);
    expect(await idOf(`anonymous_id:${b}`)).toBe(survivor);
    const profile = await profileWhen(userId, () => true);
    expect(profile.traits).toEqual({ t0: 0, ta: 1, tb: 2 });
    expect(profile.eventCount).toBe(5);
    // Of the three customers, only the survivor is left; the other two are recorded merges.
    expect(await countEverywhere("SELECT count(*) AS n FROM customers WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(before))).toBe(1);
    expect(await countEverywhere("SELECT count(*) AS n FROM merges WHERE survivor_id = ?", survivor)).toBe(2);
    const merged = before.filter((id) => id !== survivor).sort();
    expect(Object.keys((await loadProfile(shardMap(), survivor!))!.absorbed).sort()).toEqual(merged);
  });

  it("gives the same profile whatever the order and batching of anonymous, identified and linking events", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ who: fc.constantFrom("anon", "user", "both"), s: fc.integer({ min: 0, max: 20 }), plan: fc.constantFrom("x", "y") }), { minLength: 2, maxLength: 10 }),
        fc.infiniteStream(fc.nat()),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        async (raw, seeds, cuts) => {
          run += 1;
          const userId = `pm-${run}-${crypto.randomUUID().slice(0, 6)}`;
          const anonymousId = `pa-${run}-${crypto.randomUUID().slice(0, 6)}`;
          const events: StoredEvent[] = [...raw, { who: "both" as const, s: 0, plan: "x" }].map((r, i) => ({
            messageId: `${userId}-${i}`,
            type: "identify",
            ...(r.who !== "user" ? { anonymousId } : {}),
            ...(r.who !== "anon" ? { userId } : {}),
            traits: { plan: r.plan, [`k${r.s % 4}`]: r.s },
            timestamp: at(r.s),
            receivedAt: at(0),
            sourceId: "key_prop",
          }));
          const shuffled = [...events].sort(() => (seeds.next().value % 3) - 1);
          for (let i = 0, c = 0; i < shuffled.length; c++) {
            const size = cuts[c % cuts.length]!;
            await processEvents(env, shuffled.slice(i, i + size));
            i += size;
          }
          const found = await findCustomer(env, userId);
          const doc = JSON.parse(found!.body);
          const expected = applyEvents(emptyProfile(), events);
          expect(doc.eventCount).toBe(events.length);
          expect(doc.traits).toEqual(expected.traits);
          expect(doc.identities.anonymousIds).toEqual([anonymousId]);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("unmerge", () => {
  it("restores the merged-away customer, derives both profiles from their events, and keeps them apart", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "pro" } }), ev({ type: "track", userId, event: "Order Completed" })]);
    await processEvents(env, [ev({ type: "page", anonymousId }), ev({ type: "identify", anonymousId, traits: { email: `${anonymousId}@example.com`, color: "red" } })]);
    const anonCustomer = (await idOf(`anonymous_id:${anonymousId}`))!;
    await processEvents(env, [ev({ type: "identify", userId, anonymousId })]);
    const merged = await profileWhen(userId, (p) => p.eventCount === 5);
    expect(merged.traits).toMatchObject({ plan: "pro", color: "red" });

    const res = await admin(`/v1/admin/merges/${anonCustomer}/unmerge`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ survivorId: merged.id, restoredId: anonCustomer, restoredEvents: 2, survivorEvents: 3 });

    const survivor = await profileWhen(userId, (p) => p.eventCount === 3);
    expect(survivor.traits).toEqual({ plan: "pro" });
    expect(survivor.identities.anonymousIds).toEqual([]);
    const restored = await profileWhen(`anonymous_id:${anonymousId}`, (p) => p.id === anonCustomer);
    expect(restored.eventCount).toBe(2);
    expect(restored.traits).toEqual({ email: `${anonymousId}@example.com`, color: "red" });
    expect(restored.identities.emails).toEqual([`${anonymousId}@example.com`]);
    expect(await idOf(`email:${anonymousId}@example.com`)).toBe(anonCustomer);
    const merges = (await (await api(`/v1/customers/${userId}/merges`, { headers: { authorization: bearer(KEYS.read) } })).json()) as any;
    expect(merges.merges).toEqual([]);

    // The next event that links them does not merge them again: the refusal is recorded.
    const again = await processEvents(env, [ev({ type: "identify", userId, anonymousId })]);
    expect(again.merges).toBe(0);
    expect(again.refusals).toBe(1);
    expect(await idOf(`anonymous_id:${anonymousId}`)).toBe(anonCustomer);
  });

  it("answers for the restored customer within a second, even where the identifiers' owner was remembered before the unmerge", async () => {
    const userId = uid();
    const anonymousId = uid("anon");
    const email = `${anonymousId}@example.com`;
    await processEvents(env, [ev({ type: "identify", userId, traits: { plan: "pro" } })]);
    await processEvents(env, [ev({ type: "page", anonymousId }), ev({ type: "identify", anonymousId, traits: { email } })]);
    const anonCustomer = (await idOf(`anonymous_id:${anonymousId}`))!;
    await processEvents(env, [ev({ type: "identify", userId, anonymousId })]);
    const merged = await profileWhen(userId, (p) => p.eventCount === 4);
    // Read by the identifiers that will move back: this isolate now remembers their owner.
    for (const ref of [`anonymous_id:${anonymousId}`, `email:${email}`]) expect(((await (await getCustomer(ref)).json()) as any).id).toBe(merged.id);

    // Unmerged elsewhere (the admin route also forgets what its own isolate remembers).
    expect(await unmerge(env, anonCustomer)).toMatchObject({ restoredId: anonCustomer });
    for (const ref of [`anonymous_id:${anonymousId}`, `email:${email}`]) {
      // The survivor's snapshot is rewritten within a second (KV's one write per second per key).
      await profileWhen(ref, (p) => p.id === anonCustomer);
      const events = (await (await api(`/v1/customers/${ref}/events`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { customerId?: string; events: StoredEvent[] };
      expect(events.events.map((e) => e.type).sort(), ref).toEqual(["identify", "page"]);
    }
    expect(((await (await getCustomer(userId)).json()) as any).id).toBe(merged.id);
  });

  it("answers 404 for an unknown merge and needs an admin key", async () => {
    expect((await admin("/v1/admin/merges/cus_nope/unmerge", { method: "POST" })).status).toBe(404);
    expect((await api("/v1/admin/merges/cus_nope/unmerge", { method: "POST", headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
  });
});
