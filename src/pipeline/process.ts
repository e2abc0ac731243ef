/**
 * The heart of the consumer: resolve identities, store each customer's events in its
 * CustomerSession Durable Object (which deduplicates them), apply them to profiles, commit to D1
 * in one transaction, then hand the events to the objects' sessions (trigger timers, KV
 * snapshot). Work is coalesced per customer: however many of a customer's events are in the
 * batch, its events are stored as one chunk, the profile is written once.
 *
 * A commit runs six named stages, each a file: resolve.ts (read what the batch concerns),
 * store-events.ts (the events into the customers' objects), apply.ts (each customer's new state,
 * pure), plan.ts (what to write and whom to call, pure), commit.ts (one D1 batch) and fan-out.ts
 * (sessions, snapshots, enrichment jobs).
 *
 * Idempotent under redelivery: each object answers the events its profile has not applied (its
 * chunks after the row's watermark), and the watermark commits with the profile. A concurrent
 * writer to the same customer makes the batch abort (version trigger, unique keys); we re-read and
 * recompute (retries.ts). On redelivery every event goes to the sessions again (they skip those
 * they have seen), in case the previous attempt committed to D1 but failed before reaching them.
 */
import { readConfig } from "../model/config";
import { shards } from "../db/shards";
import type { StoredEvent } from "../model/events";
import { firstOfEach } from "../kernel/values";
import { log } from "../kernel/log";
import { segmentRules, type SegmentRules } from "../segments/rules";
import type { Trigger } from "../triggers/definition";
import { activeTriggers } from "../triggers/store";
import { startsOnCatalogChange } from "../catalog/audience";
import { activeEnrichers, type StoredEnricher } from "../enrichment/store";
import { commitPlan } from "./commit";
import { deriveMissing } from "./derive-missing";
import { fanOut } from "./fan-out";
import { planCommit } from "./plan";
import { resolveCustomers, resolveEvents, type Resolved } from "./resolve";
import { storeEvents, type StoredBatch } from "./store-events";
import { withRetries } from "./retries";
import { loadPopulationCurve } from "../profiles/population-curve";

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
  /**
   * Calls to CustomerSession Durable Objects after the commit (sessions, segment notifications,
   * merges' event moves: one per customer with news for its session), and the rows they wrote.
   */
  sessionCalls: number;
  /** Calls that stored events in the customers' objects before the commit (stage 2), and their rows. */
  storeCalls: number;
  storeRowsWritten: number;
  /** Per D1 database (binding): read queries, write batches (round trips) and rows written. */
  d1ByShard: Record<string, { reads: number; batches: number; rows: number }>;
  /** Segment entries and exits, and the calls that took them to triggers. */
  segmentTransitions: number;
  segmentNotifications: number;
  sessionRowsWritten: number;
  commitAttempts: number;
  /** Milliseconds spent reading D1, storing events in the objects, computing, writing D1, and in the sessions (last attempt). */
  timings: { read: number; store: number; compute: number; d1: number; sessions: number };
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

/** Keeps the first of several events with the same messageId. */
export function dedupeWithinBatch(events: readonly StoredEvent[]): StoredEvent[] {
  return firstOfEach(events, (e) => e.messageId);
}

export async function processEvents(env: Env, input: readonly StoredEvent[], options: ProcessOptions = {}): Promise<ProcessStats> {
  const events = dedupeWithinBatch(input);
  const [triggers, rules, enrichers] = await Promise.all([activeTriggers(env.DB), segmentRules(env), activeEnrichers(env.DB), loadPopulationCurve(env.PROFILES)]);
  // The ids this batch gives new customers: a retry takes over the identifiers an earlier attempt claimed for them.
  const minted = new Set<string>();
  const resolve = () => resolveEvents(env, events, options.now ?? Date.now(), options.onSuppressed, minted);
  const stats = await withRetries("events", (attempt) => commitOnce(env, { resolve, triggers, rules, enrichers }, options, attempt));
  stats.duplicates += input.length - events.length;
  stats.received = input.length;
  return stats;
}

/**
 * Evaluates these customers' segments again with no new event (time passed, or a rule changed),
 * deriving what their profiles lack, and commits what changed exactly as a batch of events would:
 * memberships, transitions to triggers, snapshots. The one entry of identity and segment passes.
 */
export async function reevaluateCustomers(env: Env, customerIds: readonly string[], options: ProcessOptions = {}): Promise<ProcessStats> {
  const [triggers, rules] = await Promise.all([activeTriggers(env.DB), segmentRules(env)]);
  const resolve = () => resolveCustomers(env, customerIds);
  return withRetries("reevaluation", (attempt) => commitOnce(env, { resolve, triggers, rules, enrichers: [] }, options, attempt));
}

/** What a commit reads with, loaded once per batch (not per attempt). */
interface CommitInputs {
  resolve: () => Promise<Resolved>;
  /** Set once an attempt committed part of its writes (some shards) and failed: later attempts call every customer's object. */
  partial?: boolean;
  triggers: readonly Trigger[];
  rules: SegmentRules;
  enrichers: readonly StoredEnricher[];
}

/** One attempt: resolve → apply and plan → commit → fan out. A write conflict throws (and retries). */
async function commitOnce(env: Env, inputs: CommitInputs, options: ProcessOptions, attempt: number): Promise<ProcessStats> {
  const now = options.now ?? Date.now();
  const map = shards(env);
  const readsBefore = new Map(map.reads);
  const t0 = performance.now();
  const resolved = await inputs.resolve();
  const derived = await deriveMissing(env, resolved.profiles, inputs.rules);
  const t1 = performance.now();
  const stored: StoredBatch = await storeEvents(env, resolved, now);
  const tStored = performance.now();
  for (const group of resolved.groups) {
    for (const c of group.conflicts) log("warn", "identity.conflict", { customerId: group.customerId, identity: c.identity.key, ownerId: c.ownerId });
  }
  for (const r of resolved.refusals) log("warn", "identity.refused", { ...r });
  // Product views are the audience of price drops and restocks: recorded only while a trigger
  // starts on one (and only for customers it can reach), so nobody pays a D1 row per view otherwise.
  const audience = inputs.triggers.filter(startsOnCatalogChange);
  const config = readConfig(env);
  const normalize = { defaultPhoneCountry: config.defaultPhoneCountry };
  const redelivered = (options.redelivered ?? false) || inputs.partial === true;
  const plan = planCommit(resolved, { ...inputs, normalize, now, stored, derived, redelivered, audience, attribution: config.attribution });
  const t2 = performance.now();
  const written: Record<string, { batches: number; rows: number }> = {};
  const d1RowsWritten = await commitPlan(
    env,
    plan,
    resolved,
    now,
    () => {
      inputs.partial = true;
    },
    written,
  );
  const d1ByShard: ProcessStats["d1ByShard"] = {};
  for (const [i, d1] of map.databases.entries()) {
    const binding = map.bindings[i]!;
    const reads = (map.reads.get(d1) ?? 0) - (readsBefore.get(d1) ?? 0);
    d1ByShard[binding] = { reads, batches: written[binding]?.batches ?? 0, rows: written[binding]?.rows ?? 0 };
  }
  const t3 = performance.now();
  const { sessionRowsWritten } = await fanOut(env, plan, inputs.enrichers, now);
  const t4 = performance.now();
  return {
    received: resolved.events.length + resolved.suppressed,
    events: resolved.events.length,
    duplicates: plan.duplicates,
    suppressed: resolved.suppressed,
    customers: resolved.groups.length,
    customersChanged: plan.writes.length,
    merges: plan.merges.length,
    refusals: resolved.refusals.length,
    unattributable: resolved.unattributable.length,
    d1RowsWritten,
    kvWrites: plan.documents + plan.retiredSnapshots.length,
    // Experiment tally objects are Durable Object calls after the commit too (one per experiment per batch).
    sessionCalls: plan.sessionCalls.length + plan.notifications.length + plan.eventMoves.length + plan.tallies.size,
    storeCalls: stored.calls,
    storeRowsWritten: stored.rowsWritten,
    d1ByShard,
    segmentTransitions: plan.membershipChanges.reduce((n, c) => n + c.transitions.length, 0),
    segmentNotifications: plan.notifications.length,
    sessionRowsWritten,
    commitAttempts: attempt,
    timings: { read: Math.round(t1 - t0), store: Math.round(tStored - t1), compute: Math.round(t2 - tStored), d1: Math.round(t3 - t2), sessions: Math.round(t4 - t3) },
  };
}
