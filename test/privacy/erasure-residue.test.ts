import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { dayPrefix, gunzipLines, gzip } from "../../src/archive/writer";
import { resumeStalledScrubs, SCRUB_STALL_MS } from "../../src/archive/scrub";
import { hashLegacySuppressions } from "../../src/privacy/erase";
import { suppressionHash } from "../../src/kernel/suppression-hash";
import { admin, eventually, getCustomer, profileWhen, uid } from "../helpers";

const DAY = 86_400_000;
const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });

/** Every archived event of these days, by object. */
async function archived(days: string[]): Promise<{ key: string; events: StoredEvent[] }[]> {
  const out: { key: string; events: StoredEvent[] }[] = [];
  for (const day of days) {
    let cursor: string | undefined;
    do {
      const listed = await env.ARCHIVE.list({ prefix: dayPrefix(day), ...(cursor ? { cursor } : {}) });
      for (const o of listed.objects) out.push({ key: o.key, events: await gunzipLines((await env.ARCHIVE.get(o.key))!.body) });
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
  }
  return out;
}

async function scrubFinished(id: string): Promise<Record<string, any>> {
  return eventually(async () => {
    const scrub = (await (await admin(`/v1/admin/archive/scrubs/${id}`)).json()) as Record<string, any>;
    return scrub.finished ? scrub : null;
  }, `scrub ${id}`, 30_000);
}

describe("erasure leaves nothing", () => {
  it("scrubs every archived object of every day that held the person, however many pages, and says when it is finished", async () => {
    const [gone, stays] = [uid("gone"), uid("stays")];
    const email = `${gone}@example.com`;
    const now = Date.now();
    // The person was first seen three days ago; the archive holds them on four days, one of them
    // over two pages of objects (a page is 20), each object shared with someone who stays.
    const first = ev({ type: "identify", userId: gone, traits: { email }, timestamp: new Date(now - 3 * DAY).toISOString() });
    await processEvents(env, [first]);
    await profileWhen(gone, () => true);
    const days = [0, 1, 2, 3].map((d) => dayOf(now - d * DAY));
    const counts = [45, 3, 2, 1];
    for (const [i, day] of days.entries()) {
      for (let n = 0; n < counts[i]!; n++) {
        const events = [ev({ type: "track", userId: gone, event: "Viewed", context: { traits: { email } } }), ev({ type: "track", userId: stays, event: "Viewed" })];
        await env.ARCHIVE.put(`${dayPrefix(day)}hour=12/${uid("obj")}.ndjson.gz`, await gzip(`${events.map((e) => JSON.stringify(e)).join("\n")}\n`));
      }
    }
    const res = await admin(`/v1/customers/${gone}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    const { archive } = (await res.json()) as { archive: { id: string; from: string; to: string } };
    expect(archive.from <= days[3]!).toBe(true);
    const scrub = await scrubFinished(archive.id);
    expect(scrub.removed).toBeGreaterThanOrEqual(51);
    const left = await archived(days);
    expect(left.flatMap((o) => o.events).filter((e) => e.userId === gone || JSON.stringify(e).includes(email))).toEqual([]);
    expect(left.flatMap((o) => o.events).filter((e) => e.userId === stays).length).toBeGreaterThanOrEqual(51);
    // Finished scrubs keep no identifiers.
    expect(await env.DB.prepare("SELECT keys FROM archive_scrubs WHERE id = ?").bind(archive.id).first()).toEqual({ keys: null });
  });

  it("resumes a scrub whose chain of jobs was lost (a restart), from its stored progress", async () => {
    const gone = uid("lost");
    const day = dayOf(Date.now());
    for (let n = 0; n < 3; n++) {
      await env.ARCHIVE.put(`${dayPrefix(day)}hour=01/${uid("obj")}.ndjson.gz`, await gzip(`${JSON.stringify(ev({ type: "page", userId: gone }))}\n`));
    }
    // A scrub that started, then lost its queue message: nothing will move it but the cron.
    const id = uid("scr");
    const stalled = Date.now() - SCRUB_STALL_MS - 1_000;
    await env.DB.prepare(`INSERT INTO archive_scrubs (id, customer_id, keys, from_day, to_day, day, cursor, started_at, updated_at) VALUES (?1, 'cus_lost', ?2, ?3, ?3, ?3, '', ?4, ?4)`)
      .bind(id, JSON.stringify([`user_id:${gone}`]), day, stalled)
      .run();
    expect(await resumeStalledScrubs(env)).toBeGreaterThanOrEqual(1);
    await scrubFinished(id);
    expect((await archived([day])).flatMap((o) => o.events).filter((e) => e.userId === gone)).toEqual([]);
  });

  it("keeps suppressions as keyed hashes, still drops the person's replayed events, and survives a secret rotation", async () => {
    const userId = uid("hashed");
    const email = `${userId}@example.com`;
    const events = [ev({ type: "identify", userId, traits: { email, phone: "+33612345099" } })];
    await processEvents(env, events);
    await profileWhen(userId, () => true);
    expect((await admin(`/v1/customers/${userId}`, { method: "DELETE" })).status).toBe(200);
    // No row of the suppression list holds the email, the phone or the userId.
    const rows = await env.DB.prepare("SELECT key FROM suppressions WHERE instr(key, ?1) > 0 OR instr(key, ?2) > 0 OR instr(key, '+33612345099') > 0").bind(userId, email).all();
    expect(rows.results).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM suppressions WHERE key = ?").bind(suppressionHash("ssec_local_demo", `email:${email}`)).first()).toEqual({ n: 1 });
    // A replay is still suppressed.
    expect((await processEvents(env, [ev({ type: "track", userId: uid("someone"), event: "X", context: { traits: { email } } })])).suppressed).toBe(1);
    // After a rotation (a new secret first, the old one kept), the old suppressions still hold.
    const rotated = { ...env, SUPPRESSION_SECRETS: "ssec_new,ssec_local_demo" } as unknown as Env;
    expect((await processEvents(rotated, [ev({ type: "page", userId })])).suppressed).toBe(1);
    expect((await getCustomer(userId)).status).toBe(404);
  });

  it("refuses to attach an identifier suppressed after the consumer read (the D1 guard compares hashes)", async () => {
    const key = `user_id:${uid("race")}`;
    const hash = suppressionHash("ssec_local_demo", key);
    await env.DB.prepare("INSERT INTO suppressions (key, customer_id, reason, created_at) VALUES (?, 'cus_x', 'test', 0)").bind(hash).run();
    await expect(
      env.DB.prepare("INSERT INTO identities (key, kind, value, customer_id, created_at, key_hash) VALUES (?, 'user_id', 'x', 'cus_y', 0, ?)").bind(key, hash).run(),
    ).rejects.toThrow(/rapport_suppressed/);
  });

  it("hashes suppressions written before hashing, and they keep suppressing", async () => {
    const key = `email:${uid("legacy")}@example.com`;
    await env.DB.prepare("INSERT INTO suppressions (key, customer_id, reason, created_at) VALUES (?, 'cus_old', 'old erasure', 1)").bind(key).run();
    expect(await hashLegacySuppressions(env)).toBeGreaterThanOrEqual(1);
    expect(await env.DB.prepare("SELECT key, customer_id AS customerId, reason FROM suppressions WHERE key IN (?, ?)").bind(key, suppressionHash("ssec_local_demo", key)).all().then((r) => r.results)).toEqual([
      { key: suppressionHash("ssec_local_demo", key), customerId: "cus_old", reason: "old erasure" },
    ]);
    expect((await processEvents(env, [ev({ type: "identify", userId: uid("who"), traits: { email: key.slice("email:".length) } })])).suppressed).toBe(1);
  });
});
