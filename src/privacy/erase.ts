/**
 * The right to be forgotten and the right of access. Erasing a customer deletes its profile,
 * identities, stored events, KV snapshot and identifier entries, session object, experiment tally rows, the quarantined
 * payloads that mention one of its identifiers and its events in stored dead letters. It records
 * a suppression per identifier so that replayed or late events do not recreate the person (see
 * the pipeline and the `identities_not_suppressed` trigger). Exporting returns everything held
 * about the person.
 */
import { refuseDuringMove } from "../db/slot-moves";
import { startScrub } from "../archive/scrub";
import { forgetMembershipStatements } from "../segments/members-store";
import { desc, eq, inArray, notLike, sql } from "drizzle-orm";
import { forgetEnrichmentAnswers } from "../enrichment/job";
import { database } from "../db/client";
import { customers, eventChunks, identities, identityRefusals, merges, quarantine, suppressions } from "../db/schema";
import { forgetViewerStatement } from "../catalog/store";
import { surveyAnswerStatements } from "../profiles/engagement-store";
import { answerDeltas } from "../profiles/survey-answers";
import { runBatch } from "../db/statements";
import { ShardedWrites } from "../db/sharded-writes";
import { shards } from "../db/shards";
import type { StoredEvent } from "../model/events";
import { log } from "../kernel/log";
import { toDocument, type CustomerProfile } from "../profiles/document";
import { identityKey, snapshotKey } from "../profiles/snapshot";
import { loadProfile } from "../profiles/store";
import { pendingEventMoves } from "../profiles/merges";
import { customerEvents } from "../profiles/events";
import { scrubDeadLetters } from "../queues/dead-letters";
import { sessionStub } from "../sessions/contract";
import { tallyStub } from "../experiments/tally";
import { readConfig } from "../model/config";
import { ApiError } from "../kernel/errors";
import { SUPPRESSION_PREFIX, suppressionHash, suppressionHashes } from "../kernel/suppression-hash";

export interface Erasure {
  customerId: string;
  identities: string[];
  events: number;
  quarantined: number;
  /** Dead letters that held the customer's events (scrubbed, or deleted when nothing else was left). */
  deadLetters: number;
  /**
   * The scrub rewriting the raw archive (R2) without the customer's events: its id (follow it at
   * `GET /v1/admin/archive/scrubs/{id}`) and the days it covers.
   */
  archive: { id: string; from: string; to: string };
}

export async function eraseCustomer(env: Env, customerId: string, reason: string, now = Date.now()): Promise<Erasure | null> {
  const [secret] = readConfig(env).suppressionSecrets;
  // Without a secret, the erased identifiers could only be remembered in clear: refused.
  if (secret === undefined) throw new ApiError("not_configured", "SUPPRESSION_SECRETS is not set: erasure needs it to remember the erased identifiers by keyed hashes (`wrangler secret put SUPPRESSION_SECRETS`)");
  await refuseDuringMove(env);
  const control = env.DB;
  const map = shards(env);
  const profile = await loadProfile(map, customerId);
  if (!profile) return null;
  // Customers merged into this one whose objects still hold their events (the survivor's has not
  // taken them in yet): those objects are emptied too.
  const events = await customerEvents(env, profile);
  const keys = profile.identities.map((i) => i.key);
  const values = profile.identities.map((i) => i.value);
  const needles = JSON.stringify(values.filter((v) => v.length >= 6));
  // The suppressions are written in the control database (the pipeline reads them there) and, with
  // the deletion of the identifiers, where each key lives (its `identities_not_suppressed` trigger
  // refuses a consumer that read before the erasure). The profile row goes last: until then a
  // failed erasure can be run again.
  const suppress = (d1: D1Database, some: readonly string[]) =>
    database(d1).run(sql`INSERT INTO suppressions (key, customer_id, reason, created_at) SELECT value, ${customerId}, ${reason}, ${now} FROM json_each(${JSON.stringify(some.map((k) => suppressionHash(secret, k)))}) WHERE true ON CONFLICT (key) DO NOTHING`);
  const shard = map.of(customerId);
  const forget = forgetMembershipStatements(shard, control, customerId, profile.segments);
  const writes = new ShardedWrites().add("claim", control, [
    suppress(control, keys),
    // The identity refusals that name the customer go too.
    database(control).delete(identityRefusals).where(sql`instr(${identityRefusals.customerIds}, ${customerId}) > 0`),
    ...forget.sizes,
  ]);
  // json_each, not IN (?, ?, …): a customer may hold more identifiers than D1 binds parameters.
  for (const [d1, some] of map.group(keys, (k) => k)) writes.add("claim", d1, [suppress(d1, some), database(d1).delete(identities).where(sql`${identities.key} IN (SELECT value FROM json_each(${JSON.stringify(some)}))`)]);
  // Merge records keep the merged-away profiles (for audit and unmerge): they go too.
  for (const [d1, some] of map.group(Object.keys(profile.absorbed), (id) => id)) writes.add("absorb", d1, [database(d1).delete(merges).where(sql`${merges.mergedId} IN (SELECT value FROM json_each(${JSON.stringify(some)}))`)]);
  const db = database(shard);
  writes.add("write", shard, [
    db.delete(eventChunks).where(eq(eventChunks.customerId, customerId)),
    ...forget.members,
    forgetViewerStatement(shard, customerId),
    // The survey results lose the customer's answers (in the same shard, with the row).
    ...surveyAnswerStatements(shard, answerDeltas([profile.state.surveys], undefined)),
    db.delete(merges).where(eq(merges.survivorId, customerId)),
    db.delete(customers).where(eq(customers.id, customerId)),
  ]);
  await writes.run();
  // Refused payloads are not linked to customers; those that mention an identifier go too.
  const quarantined = await database(control).delete(quarantine).where(sql`EXISTS (SELECT 1 FROM json_each(${needles}) WHERE instr(${quarantine.raw}, value) > 0)`).run();
  // The session object goes too: session, pending timers and trigger history; and the customer's
  // rows in experiment tallies (the results lose one customer, as they would never have had them).
  // So do the answers enrichers cached for the customer's email (those keyed by email domain
  // describe a company, not the customer).
  const emails = profile.identities.filter((i) => i.kind === "email").map((i) => i.value);
  await Promise.all([env.PROFILES.delete(snapshotKey(customerId)), ...keys.map((k) => env.PROFILES.delete(identityKey(k))), sessionStub(env, customerId).clear(), ...pendingEventMoves(profile).map((id) => sessionStub(env, id).clear()), forgetEnrichmentAnswers(env, emails), ...Object.keys(profile.state.experiments ?? {}).map((id) => tallyStub(env, id).record([], [customerId]))]);
  const deadLetters = await scrubDeadLetters(env, keys, values);
  // Archived events were received no earlier than the oldest event time of the profile, give or take clock skew.
  const archive = await startScrub(env, customerId, keys, Math.min(profile.createdAt, profile.state.firstSeenAt ?? profile.createdAt), now);
  const erasure = { customerId, identities: keys, events: events.length, quarantined: quarantined.meta.changes ?? 0, deadLetters, archive };
  log("info", "privacy.erased", { customerId, identities: keys.length, events: events.length, reason });
  return erasure;
}

export interface CustomerExport {
  exportedAt: string;
  profile: CustomerProfile;
  events: StoredEvent[];
}

export async function exportCustomer(env: Env, customerId: string): Promise<CustomerExport | null> {
  const profile = await loadProfile(shards(env), customerId);
  if (!profile) return null;
  const events = await customerEvents(env, profile);
  return { exportedAt: new Date().toISOString(), profile: toDocument(customerId, profile.state, profile.identities, profile.version, profile.updatedAt, profile.segments, profile.scores), events };
}

export interface Suppression {
  /** The identifier's keyed hash (`hmac:…`): the identifier itself is not kept. */
  key: string;
  customerId: string;
  reason: string;
  createdAt: string;
}

export async function listSuppressions(env: Env, limit: number): Promise<Suppression[]> {
  const rows = await database(env.DB).select().from(suppressions).orderBy(desc(suppressions.createdAt)).limit(limit).all();
  return rows.map((r) => ({ key: r.key, customerId: r.customerId, reason: r.reason, createdAt: new Date(r.createdAt).toISOString() }));
}

/**
 * Lifts a suppression, named by its identifier (`email:ada@example.com`, hashed here under every
 * secret) or by its hash as listed: events with this identifier are accepted again.
 */
export async function liftSuppression(env: Env, key: string): Promise<boolean> {
  const candidates = key.startsWith(SUPPRESSION_PREFIX) ? [key] : [key, ...suppressionHashes(readConfig(env).suppressionSecrets, key)];
  // The control database's row and every shard's copy (erasure wrote one where the key lives; a
  // suppression is listed by hash, so which shard is not known here): all go.
  const databases = [...new Set([env.DB, ...shards(env).databases])];
  const results = await Promise.all(databases.map((d1) => database(d1).delete(suppressions).where(inArray(suppressions.key, candidates)).run()));
  return (results[0]!.meta.changes ?? 0) > 0;
}

/**
 * Suppressions written before they were hashed hold the identifier itself: the daily job replaces
 * each with its hash under the newest secret. Returns how many were hashed.
 */
export async function hashLegacySuppressions(env: Env, limit = 1_000): Promise<number> {
  const [secret] = readConfig(env).suppressionSecrets;
  if (secret === undefined) return 0;
  const db = database(env.DB);
  const results = await db.select({ key: suppressions.key }).from(suppressions).where(notLike(suppressions.key, `${SUPPRESSION_PREFIX}%`)).limit(limit).all();
  if (results.length === 0) return 0;
  const pairs = JSON.stringify(results.map((r) => [r.key, suppressionHash(secret, r.key)]));
  await runBatch(env.DB, [
    db.run(sql`INSERT INTO suppressions (key, customer_id, reason, created_at)
      SELECT json_extract(p.value, '$[1]'), s.customer_id, s.reason, s.created_at FROM json_each(${pairs}) p JOIN suppressions s ON s.key = json_extract(p.value, '$[0]') WHERE true
      ON CONFLICT (key) DO NOTHING`),
    db.run(sql`DELETE FROM suppressions WHERE key IN (SELECT json_extract(value, '$[0]') FROM json_each(${pairs}))`),
  ]);
  log("info", "privacy.suppressions_hashed", { count: results.length });
  return results.length;
}
