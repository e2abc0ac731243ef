/**
 * The heart of the consumer: deduplicate, resolve identities, apply events to profiles, commit to
 * D1 in one transaction, then hand each customer's events to its CustomerSession Durable Object
 * (session, trigger timers, KV snapshot). Work is coalesced per customer: however many of a
 * customer's events are in the batch, the profile is written once and its object called once.
 *
 * Idempotent under redelivery: the messageIds of stored events are the dedupe marks, and they
 * commit in the same D1 batch as the profile change. A concurrent writer to the same customer
 * makes the batch abort (version trigger, unique keys); we re-read and recompute. On redelivery
 * every event goes to the Durable Objects again (they skip those they have seen), in case the
 * previous attempt committed to D1 but failed before reaching them. Customers a third-party
 * enricher should look up go to the jobs queue (enrichment/).
 */
import { mapLimited } from "../kernel/concurrency";
import { readConfig } from "../model/config";
import { newId } from "../kernel/crypto";
import { database, type Database } from "../db/client";
import { isWriteConflict } from "../db/write-conflict";
import type { StoredEvent } from "../model/events";
import { lookupKeysOf } from "../identity/keys";
import { resolveGroups, type Refusal, type ResolvedGroup } from "../identity/resolve";
import { log } from "../kernel/log";
import { firstOfEach } from "../kernel/values";
import { suppressionHash } from "../kernel/suppression-hash";
import { applyEvents } from "../profiles/apply";
import { toDocument, type CustomerProfile } from "../profiles/document";
import { combine } from "../profiles/merge";
import { commitStatements, loadOwners, loadProfiles, loadRowEvents, loadSeenMessageIds, loadSuppressed, needsRowEvents, storedEventsOf, type ProfileWrite, type StoredProfile } from "../profiles/store";
import { applyComputed } from "../profiles/computed";
import { applyAggregates, missingSpecs } from "../profiles/aggregates";
import { segmentRules, type SegmentRules } from "../segments/rules";
import { membersOf } from "../segments/evaluate";
import { nextMembership, recentTransitions, RESEND_WINDOW_MS, sameMembership, transitionEvent } from "../segments/membership";
import { membershipStatements, type MembershipChange } from "../segments/members-store";
import { scoresOf, scoreStatsStatement } from "../models/scores";
import type { Scores } from "../model/scores";
import { loadMergeBlocks, refusalStatements, unattributableStatements } from "../identity/merge-store";
import { mergeStatements, type MergeWrite } from "./merge-statements";
import { snapshotKey } from "../profiles/snapshot";
import { sessionStub } from "../sessions/contract";
import type { IngestInput } from "../sessions/contract";
import { startEvents, type Trigger } from "../triggers/definition";
import { concerns } from "../triggers/match";
import { activeTriggers } from "../triggers/store";
import { CATALOG_EVENTS } from "../catalog/changes";
import { productActivity } from "../catalog/activity";
import { productStatsStatement, productViewStatement, unknownProductsStatement } from "../catalog/store";
import { productOf } from "../model/products";
import { activeEnrichers, type StoredEnricher } from "../enrichment/store";
import { enrichmentRequests } from "../enrichment/request";
import { enrichJobs } from "../enrichment/job";
import { isEnrichment } from "../model/events";

export interface ProcessStats {
  /** Messages handed in, duplicates and suppressed ones included. */
  received: number;
  /** Events processed: the messages without duplicates inside the batch and suppressed ones. */
  events: number;
  duplicates: number;
  /** Events dropped because they carry an identifier of an erased customer. */
  suppressed: number;
  /** Customers merged into another, and merges the identity rules refused. */
  merges: number;
  refusals: number;
  /** Events whose identifiers are all blocked values: quarantined. */
  unattributable: number;
  customers: number;
  customersChanged: number;
  d1RowsWritten: number;
  kvWrites: number;
  /** Calls to CustomerSession Durable Objects (one per customer with news), and the rows they wrote. */
  sessionCalls: number;
  /** Segment entries and exits, and the calls that took them to triggers. */
  segmentTransitions: number;
  segmentNotifications: number;
  sessionRowsWritten: number;
  commitAttempts: number;
  /** Milliseconds spent reading D1, computing, writing D1, and in the Durable Objects (last attempt). */
  timings: { read: number; compute: number; d1: number; sessions: number };
}

export interface ProcessOptions {
  /** Send every customer touched, changed or not, to its Durable Object (on redelivery, in case
   * the previous attempt committed to D1 but failed before reaching them). */
  redelivered?: boolean;
  now?: number;
  /**
   * Called once it is known which messageIds are dropped because they carry an erased customer's
   * identifier (the first D1 read): the raw archive is written from then on, without them.
   */
  onSuppressed?: (messageIds: ReadonlySet<string>) => void;
}

const MAX_COMMIT_ATTEMPTS = 5;
/** Durable Object calls in flight at once (each customer's object is called once per batch). */
const SESSION_CALLS_IN_FLIGHT = 200;

export class ConcurrentWriteError extends Error {
  override name = "ConcurrentWriteError";
}


/** Keeps the first of several events with the same messageId. */
export function dedupeWithinBatch(events: readonly StoredEvent[]): StoredEvent[] {
  return firstOfEach(events, (e) => e.messageId);
}

/**
 * Profiles stored before computed traits existed, or before a segment rule asked for an event
 * count, get them from all their stored events, once, the first time a batch touches them:
 * adding only the new events would leave them partial for good. Returns the ids derived.
 */
async function deriveMissing(db: Database, profiles: Map<string, StoredProfile>, rules: SegmentRules): Promise<Set<string>> {
  const missing = [...profiles.values()].filter((p) => p.state.computed == null || (p.state.eventCount > 0 && missingSpecs(p.state.aggregates, rules.specs).length > 0));
  await mapLimited(missing, 10, async (p) => {
    const events = await storedEventsOf(db, p);
    if (p.state.computed == null) p.state.computed = applyComputed(undefined, events);
    const absent = missingSpecs(p.state.aggregates, rules.specs);
    if (absent.length > 0) p.state.aggregates = { ...p.state.aggregates, ...applyAggregates({}, absent, events, true) };
  });
  return new Set(missing.map((p) => p.id));
}

/** What a commit starts from: the customers concerned, grouped with their events. */
interface Resolved {
  /** The events left after dropping suppressed ones, and how many were dropped. */
  events: StoredEvent[];
  suppressed: number;
  groups: ResolvedGroup[];
  profiles: Map<string, StoredProfile>;
  seen: Set<string>;
  refusals: Refusal[];
  unattributable: StoredEvent[];
}

async function withRetries(what: string, run: (attempt: number) => Promise<ProcessStats>): Promise<ProcessStats> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (err) {
      if (!isWriteConflict(err) || attempt >= MAX_COMMIT_ATTEMPTS) {
        if (isWriteConflict(err)) throw new ConcurrentWriteError(`Gave up after ${attempt} concurrent-write conflicts`);
        throw err;
      }
      log("info", "pipeline.write_conflict", { attempt, what });
      await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
    }
  }
}

/** The suppression hash new identities are written with (under the newest secret), if there is a secret. */
export function keyHashOf(env: Env): (key: string) => string | null {
  const [secret] = readConfig(env).suppressionSecrets;
  return secret === undefined ? () => null : (key) => suppressionHash(secret, key);
}

export async function processEvents(env: Env, input: readonly StoredEvent[], options: ProcessOptions = {}): Promise<ProcessStats> {
  const db = database(env.DB);
  const events = dedupeWithinBatch(input);
  const [triggers, rules, enrichers] = await Promise.all([activeTriggers(db), segmentRules(env), activeEnrichers(env.DB)]);
  const stats = await withRetries("events", (attempt) => commitOnce(env, db, () => resolveEvents(env, db, events, options.now ?? Date.now(), options.onSuppressed), triggers, rules, options, attempt, enrichers));
  stats.duplicates += input.length - events.length;
  stats.received = input.length;
  return stats;
}

/**
 * Evaluates these customers' segments again with no new event (time passed, or a rule changed),
 * deriving what their profiles lack, and commits what changed exactly as a batch of events would:
 * memberships, transitions to triggers, snapshots.
 */
export async function reevaluateCustomers(env: Env, customerIds: readonly string[], options: ProcessOptions = {}): Promise<ProcessStats> {
  const db = database(env.DB);
  const [triggers, rules] = await Promise.all([activeTriggers(db), segmentRules(env)]);
  return withRetries("reevaluation", (attempt) => commitOnce(env, db, () => resolveCustomers(db, customerIds), triggers, rules, options, attempt));
}

async function resolveCustomers(db: Database, ids: readonly string[]): Promise<Resolved> {
  const profiles = await loadProfiles(db, ids, { events: "summary" });
  const groups = [...profiles.keys()].map((customerId): ResolvedGroup => ({ customerId, isNew: false, events: [], newIdentities: [], merges: [], conflicts: [] }));
  return { events: [], suppressed: 0, groups, profiles, seen: new Set(), refusals: [], unattributable: [] };
}

async function resolveEvents(env: Env, db: Database, input: StoredEvent[], now: number, onSuppressed?: (messageIds: ReadonlySet<string>) => void): Promise<Resolved> {
  const config = readConfig(env);
  const normalize = { defaultPhoneCountry: config.defaultPhoneCountry };
  const keysByEvent = input.map((e) => lookupKeysOf(e, normalize));
  const allKeys = [...new Set(keysByEvent.flat())];
  const [owners, suppressed] = await Promise.all([loadOwners(db, allKeys), loadSuppressed(db, allKeys, config.suppressionSecrets)]);
  // Events of erased customers are dropped: replays and late events must not recreate them.
  const events = suppressed.size === 0 ? input : input.filter((_, i) => !keysByEvent[i]!.some((k) => suppressed.has(k)));
  if (onSuppressed) onSuppressed(events === input ? new Set() : new Set(input.filter((_, i) => keysByEvent[i]!.some((k) => suppressed.has(k))).map((e) => e.messageId)));
  // Every customer an identifier points to is read first: merge planning needs their identities.
  const ownerIds = [...new Set(owners.values())];
  // Their events stay in D1 (RowEvents): only merges need them, to combine.
  const [profiles, blocked] = await Promise.all([loadProfiles(db, ownerIds, { events: "summary" }), loadMergeBlocks(db, ownerIds)]);
  const identitiesByCustomer = new Map([...profiles.values()].map((p) => [p.id, p.identities]));
  const { groups, refusals, unattributable } = resolveGroups(events, owners, identitiesByCustomer, () => newId("cus", now), normalize, blocked, config.identityRules);
  const merging = groups.filter((g) => g.merges.length > 0).flatMap((g) => [g.customerId, ...g.merges.map((m) => m.customerId)]);
  for (const [id, text] of await loadRowEvents(db, merging.filter((id) => profiles.has(id)))) profiles.get(id)!.recentEvents = text;
  const seen = await loadSeenMessageIds(db, [...profiles.values()], events.map((e) => e.messageId));
  return { events, suppressed: input.length - events.length, groups, profiles, seen, refusals, unattributable };
}

async function commitOnce(env: Env, db: Database, resolve: () => Promise<Resolved>, triggers: readonly Trigger[], rules: SegmentRules, options: ProcessOptions, attempt: number, enrichers: readonly StoredEnricher[] = []): Promise<ProcessStats> {
  const now = options.now ?? Date.now();
  const t0 = performance.now();
  const normalize = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const { events, suppressed, groups, profiles, seen, refusals, unattributable } = await resolve();
  const derived = await deriveMissing(db, profiles, rules);
  const t1 = performance.now();

  const writes: ProfileWrite[] = [];
  const mergeWrites: MergeWrite[] = [];
  const sessionCalls: IngestInput[] = [];
  // Product views are the audience of price drops and restocks: recorded only while a trigger
  // starts on one, so nobody pays a D1 row per view otherwise.
  const recordViews = triggers.some((t) => startEvents(t.definition).some((name) => CATALOG_EVENTS.includes(name)));
  const views = new Map<string, { productId: string; customerId: string; viewedAt: number }>();
  // Every new event of the batch, for product popularity (content recommendations).
  const newEvents: StoredEvent[] = [];
  const membershipChanges: MembershipChange[] = [];
  const writtenScores: Scores[] = [];
  const notifications: { customerId: string; events: StoredEvent[]; triggers: Trigger[] }[] = [];
  let documents = 0;
  const retiredSnapshots: string[] = [];
  let duplicates = 0;
  for (const group of groups) {
    for (const c of group.conflicts) {
      log("warn", "identity.conflict", { customerId: group.customerId, identity: c.identity.key, ownerId: c.ownerId });
    }
    const survivor = profiles.get(group.customerId);
    const absorbed = group.merges.map((m) => profiles.get(m.customerId));
    if ((!group.isNew && !survivor) || absorbed.some((p) => !p)) throw new ConcurrentWriteError(`A customer vanished while processing; rapport_version_conflict`);
    const base = combine(survivor, absorbed as StoredProfile[]);
    const fresh = group.events.filter((e) => !seen.has(e.messageId));
    duplicates += group.events.length - fresh.length;
    newEvents.push(...fresh);
    const state = applyEvents(base.state, fresh, { ...normalize, aggregateSpecs: rules.specs });
    // Segments are evaluated on the new state (and against the survivor's memberships: an
    // absorbed profile's went with it).
    const previous = survivor?.segments ?? {};
    const scores = scoresOf(rules, state, now);
    const { membership, transitions } = nextMembership(previous, membersOf(rules.segments, state, now, scores), rules.segments, now);
    const changed = fresh.length > 0 || group.newIdentities.length > 0 || group.merges.length > 0 || derived.has(group.customerId) || !sameMembership(previous, membership);
    if (!changed && !options.redelivered) continue;
    // Entries and exits go to the triggers that start or stop on them; on a retry, those an
    // earlier attempt committed go again (the object may not have had them; the ids repeat).
    const segmentEvents = [...transitions, ...(options.redelivered ? recentTransitions(previous, now - RESEND_WINDOW_MS) : [])].map((t) => transitionEvent(group.customerId, t, rules.names));
    const segmentTriggers = segmentEvents.length > 0 ? triggers.filter((t) => segmentEvents.some((e) => concerns(t, e))) : [];
    if (segmentTriggers.length > 0) notifications.push({ customerId: group.customerId, events: segmentEvents, triggers: segmentTriggers });
    if (transitions.length > 0) membershipChanges.push({ customerId: group.customerId, transitions });
    // An enricher's answers change traits, not the visit: sessions and triggers do not see them.
    const sessionEvents = (options.redelivered ? group.events : fresh).filter((e) => !isEnrichment(e));
    const concerned = triggers.filter((t) => sessionEvents.some((e) => concerns(t, e)));
    // The customer's session object is called once it has started, when the customer is served
    // (its snapshot carries the session) or when a trigger concerns its events. Until then it is
    // not: most visitors are never read and start no trigger, and their session can be derived
    // from their stored events when needed, so they cost no Durable Object request.
    const callSession = base.sessionAt !== null || base.servedAt !== null || concerned.length > 0;
    if (changed) {
      if (scores) writtenScores.push(scores);
      writes.push({
        customerId: group.customerId,
        previousVersion: survivor?.version ?? null,
        state,
        recentEvents: base.recentEvents,
        chunkCount: base.chunkCount,
        identities: base.identities,
        newIdentities: group.newIdentities,
        newEvents: fresh,
        segments: membership,
        scores,
        servedAt: base.servedAt,
        sessionAt: base.sessionAt ?? (callSession ? now : null),
        createdAt: survivor?.createdAt ?? now,
        now,
      });
      group.merges.forEach((m, i) => {
        const merged = absorbed[i]!;
        mergeWrites.push({ survivorId: group.customerId, merged, cause: { messageId: m.messageId, keys: m.keys }, now });
        if (merged.servedAt) retiredSnapshots.push(merged.id);
      });
    }
    // KV snapshots are kept only for customers the read API has served (see markServed): ingest
    // pays no KV write ($5 per million) for the many profiles nobody reads, anonymous visitors
    // above all. The first read of a customer comes from D1 and starts its snapshot.
    let document: CustomerProfile | null = null;
    if (base.servedAt && survivor) {
      const version = changed ? survivor.version + 1 : survivor.version;
      document = toDocument(group.customerId, state, [...base.identities, ...group.newIdentities], version, changed ? now : survivor.updatedAt, membership, changed ? scores : survivor.scores);
      documents++;
    }
    if (recordViews) {
      for (const e of fresh) {
        const product = e.type === "track" && e.event === "Product Viewed" ? productOf(e.properties) : null;
        const key = product && `${product.productId}\n${group.customerId}`;
        const viewedAt = Date.parse(e.timestamp);
        if (product && key && (views.get(key)?.viewedAt ?? 0) < viewedAt) views.set(key, { productId: product.productId, customerId: group.customerId, viewedAt });
      }
    }
    if (!callSession) continue;
    sessionCalls.push({
      customerId: group.customerId,
      events: sessionEvents,
      triggers: concerned,
      document,
      absorb: absorbed.filter((p) => p!.sessionAt !== null).map((p) => p!.id),
      // An object starting for a customer with a history derives the session from all of it
      // (the object knows whether it is starting: a retry after a failed start seeds again).
      seed: survivor !== undefined || group.merges.length > 0,
    });
  }
  for (const r of refusals) log("warn", "identity.refused", { ...r });

  // A row about to fill up moves its events to chunks: that needs them.
  const filling = writes.filter((w) => needsRowEvents(w.recentEvents, w.newEvents));
  const texts = await loadRowEvents(db, filling.map((w) => w.customerId));
  for (const w of filling) w.recentEvents = texts.get(w.customerId)!;

  let d1RowsWritten = 0;
  const activity = productActivity(newEvents);
  const statements = [
    ...mergeStatements(env.DB, mergeWrites),
    ...commitStatements(env.DB, writes, keyHashOf(env)),
    ...membershipStatements(env.DB, membershipChanges),
    ...refusalStatements(env.DB, refusals, now),
    ...unattributableStatements(env.DB, unattributable, now),
    ...[scoreStatsStatement(env.DB, writtenScores), productViewStatement(env.DB, [...views.values()]), productStatsStatement(env.DB, activity.counts), unknownProductsStatement(env.DB, activity.seen, now)].filter((s) => s !== null),
  ];
  const t2 = performance.now();
  if (statements.length > 0) {
    for (const r of await env.DB.batch(statements)) d1RowsWritten += r.meta.rows_written ?? 0;
  }

  const t3 = performance.now();
  // D1 is the source of truth and has committed; the Durable Objects (sessions, timers, KV
  // snapshots) follow. A failure throws, the messages are retried, and the retry sends every
  // touched customer to its object again (options.redelivered).
  // Third-party enrichment of the customers written, on the jobs queue: nothing here waits for it.
  const enrichment = enrichers.flatMap((e) => enrichJobs(e.id, enrichmentRequests(e, writes.map((w) => ({ customerId: w.customerId, state: w.state, identities: [...w.identities, ...w.newIdentities] })), now)));
  const [sessionResults] = await Promise.all([
    mapLimited(sessionCalls, SESSION_CALLS_IN_FLIGHT, (call) => sessionStub(env, call.customerId).ingest(call)),
    mapLimited(notifications, SESSION_CALLS_IN_FLIGHT, (n) => sessionStub(env, n.customerId).notify(n)),
    Promise.all(retiredSnapshots.map((id) => env.PROFILES.delete(snapshotKey(id)))),
    enrichment.length > 0 ? env.JOBS.sendBatch(enrichment.map((body) => ({ body }))) : undefined,
  ]);

  const t4 = performance.now();
  return {
    received: events.length + suppressed,
    events: events.length,
    duplicates,
    suppressed,
    customers: groups.length,
    customersChanged: writes.length,
    merges: mergeWrites.length,
    refusals: refusals.length,
    unattributable: unattributable.length,
    d1RowsWritten,
    kvWrites: documents + retiredSnapshots.length,
    sessionCalls: sessionCalls.length + notifications.length,
    segmentTransitions: membershipChanges.reduce((n, c) => n + c.transitions.length, 0),
    segmentNotifications: notifications.length,
    sessionRowsWritten: sessionResults.reduce((n, r) => n + r.rowsWritten, 0),
    commitAttempts: attempt,
    timings: { read: Math.round(t1 - t0), compute: Math.round(t2 - t1), d1: Math.round(t3 - t2), sessions: Math.round(t4 - t3) },
  };
}
