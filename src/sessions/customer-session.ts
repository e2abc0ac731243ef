/**
 * CustomerSession: one Durable Object per customer (named by master id). It holds the live
 * session, the timers of behavioural triggers, and the customer's KV snapshot writes.
 *
 * - The pipeline calls `ingest` once per customer per consumer batch, after D1 has committed:
 *   the events update the session and start or cancel timers; the profile document it passes is
 *   written to KV with the session. Being one single-threaded object per customer, it orders
 *   snapshot writes by profile version (concurrent consumers cannot leave an older one in KV)
 *   and spaces them a second apart (KV's limit per key), deferring the latest to the alarm.
 * - One alarm, set to the earliest of: a timer's fire time, a deferred snapshot, an unsent
 *   message. Alarms are at-least-once, so firing goes through an outbox: the firing is recorded
 *   with its message before it is sent, and a retried alarm resends what is still unsent with
 *   the same delivery id (the delivery consumer drops duplicates).
 * - When customers merge, the survivor takes over the merged-away object's session, timers and
 *   trigger history (`absorb`), then clears it.
 */
import { shards } from "../db/shards";
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../model/config";
import type { DeliveryMessage } from "../triggers/delivery-message";
import type { StoredEvent } from "../model/events";
import { log } from "../kernel/log";
import type { CustomerProfile } from "../profiles/document";
import { writeSnapshot } from "../profiles/snapshot";
import { loadProfile, rowHeldEvents } from "../profiles/store";
import { toDocument } from "../profiles/document";
import { firingOf } from "../triggers/fire";
import { loadPopulationCurve } from "../profiles/population-curve";
import { firingEventJson, queueFiringEvents } from "../ingest/trigger-fired";
import { latestViews, startsOnCatalogChange } from "../catalog/audience";
import { productViewStatement } from "../catalog/store";
import { runBatch } from "../db/statements";
import { getTrigger, type StoredTrigger } from "../triggers/store";
import { applyToSession, emptySession, mergeSessions, sessionView, type SessionOptions, type SessionState, type SessionView } from "./state";
import { applyTimerChanges, dueTimers, earliestTimer, FIRINGS_TABLE, planTimers, type FiringRow, type TimerRow, type Timers } from "./timers";
import type { IngestInput, IngestResult, StoreInput, StoreResult } from "./contract";
import { EventStore, type ChunkImport } from "./event-store";

const STATE_TABLE = "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);";
const emptyState = (): ObjectState => ({ customerId: null, session: emptySession(), timers: {}, snapshot: null, absorbed: [] });
const byTime = (events: readonly StoredEvent[]) => [...events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));

/** KV allows one write per second to a key. */
const KV_WRITE_SPACING_MS = 1_000;
/** Timers handled per alarm run; the alarm comes back at once for the rest. */
const FIRE_BATCH = 50;
/** The furthest ahead an alarm is set: ten years. */
const MAX_ALARM_AHEAD_MS = 10 * 365 * 86_400_000;
/** Firing history is kept this long (longer than any frequency-cap period). */
const FIRINGS_KEPT_MS = 400 * 86_400_000;
const DAY_MS = 86_400_000;

interface ObjectState {
  customerId: string | null;
  session: SessionState;
  /** Pending trigger timers (sessions/timers.ts): in this row, so a call writes one row. */
  timers: Timers;
  /** The latest profile document (without session) and when KV last got a snapshot. */
  snapshot: { doc: CustomerProfile; writtenAt: number; dirty: boolean } | null;
  /** Customers merged into this one whose objects were absorbed. */
  absorbed: string[];
}


export interface Handover {
  session: SessionState;
  timers: TimerRow[];
  firings: FiringRow[];
  /** The merged-away customer's stored events as a JSON array (applied to its profile, which the survivor's combined). */
  eventsJson: string;
}

export class CustomerSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private state: ObjectState;
  /** The customer's stored events and their dedupe marks (sessions/event-store.ts). */
  private readonly events: EventStore;
  /** Nothing stored yet: a seeded call derives the session from the customer's stored events. */
  private fresh: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`${STATE_TABLE} ${FIRINGS_TABLE}`);
    this.events = new EventStore(this.sql, (rows) => {
      this.written += rows;
    });
    const row = this.sql.exec<{ json: string }>("SELECT json FROM state WHERE id = 1").toArray()[0];
    const stored = row ? (JSON.parse(row.json) as ObjectState) : null;
    // Fields added to the session since the state was stored start empty.
    this.state = stored ? { ...stored, timers: stored.timers ?? {}, session: { ...emptySession(), ...stored.session } } : emptyState();
    this.fresh = !row;
    if (stored && stored.timers === undefined) this.moveLegacyTimers();
  }

  /**
   * Objects stored before timers moved into the state row (session 15) hold them in a `timers`
   * table (and a state row without `timers`, written with any timer): they move into the state
   * once, and the table goes. Objects stored since are not asked.
   */
  private moveLegacyTimers(): void {
    if (this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'timers'").toArray().length === 0) return;
    this.ctx.storage.transactionSync(() => {
      for (const t of this.sql.exec<TimerRow>("SELECT * FROM timers")) this.state.timers[t.id] ??= { ...t };
      this.sql.exec("DROP TABLE timers");
      this.save();
    });
  }

  /** Rows written to storage (billed per row) since last taken: reported to the caller and logs. */
  private written = 0;

  private write(query: string, ...bindings: SqlStorageValue[]): void {
    this.written += this.sql.exec(query, ...bindings).rowsWritten;
  }

  private takeWritten(): number {
    const n = this.written;
    this.written = 0;
    return n;
  }

  private get options(): SessionOptions {
    const config = readConfig(this.env);
    return { timeoutMs: config.sessionTimeoutMinutes * 60_000, recentViewsMax: config.recentViewsMax };
  }

  private save(): void {
    this.write("INSERT INTO state (id, json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json", JSON.stringify(this.state));
    this.fresh = false;
  }

  /**
   * A consumer batch's events of this customer, stored before the D1 commit (the pipeline's store
   * stage): one chunk however many events. Answers the events the profile has not applied yet.
   * Idempotent: seen events are skipped, and an unapplied chunk is answered again.
   */
  async store(input: StoreInput): Promise<StoreResult> {
    // The pipeline's clock: what the chunk's storing time (and so its retention) goes by.
    const now = input.now ?? Date.now();
    // Customers merged into this one whose objects still hold their events: theirs are applied
    // already (the merge combined the profiles), and deleted there once they are here.
    const moving: { customerId: string; events: StoredEvent[] }[] = [];
    for (const id of input.absorb ?? []) {
      if (id !== input.customerId) moving.push({ customerId: id, events: JSON.parse(await this.env.SESSIONS.getByName(id).storedEventsJson()) as StoredEvent[] });
    }
    // Events that a customer this batch merges in has applied are not new to the merged profile.
    const applied = new Set<string>();
    const ids = input.events.map((e) => e.messageId);
    for (const a of input.appliedBy ?? []) for (const id of await this.env.SESSIONS.getByName(a.customerId).appliedOf(ids, a.watermark)) applied.add(id);
    // Only the first chunk that holds events moves the alarm (its retention); later ones expire
    // after it, and whatever else the alarm serves is not touched here.
    const hadEvents = this.events.oldestStoredAt() !== null;
    const outcome = this.ctx.storage.transactionSync(() => {
      if (input.imports) this.events.import(input.imports, now);
      for (const m of moving) this.events.import([{ events: m.events, counted: true }], now);
      return this.events.store(applied.size > 0 ? input.events.filter((e) => !applied.has(e.messageId)) : input.events, input.watermark, now);
    });
    for (const m of moving) await this.env.SESSIONS.getByName(m.customerId).dropEvents();
    if (!hadEvents) await this.reschedule(Date.now());
    return { ...outcome, rowsWritten: this.takeWritten() };
  }

  /** Which of these messageIds this customer's profile has applied (see StoreInput.appliedBy). */
  async appliedOf(messageIds: string[], watermark: number): Promise<string[]> {
    return this.events.appliedOf(messageIds, watermark);
  }

  /** Takes these events out (an unmerge gave them back to another customer); answers the watermark. */
  async forgetEvents(messageIds: string[]): Promise<number> {
    this.ctx.storage.transactionSync(() => this.events.forget(messageIds));
    this.takeWritten();
    return this.events.lastSeq;
  }

  /** Deletes the stored events: a merge's survivor has taken them in. */
  async dropEvents(): Promise<void> {
    this.events.deleteAll();
    this.takeWritten();
    await this.reschedule(Date.now());
  }

  /** Events of one consumer batch (already committed to D1). Idempotent: seen events are skipped. */
  async ingest(input: IngestInput): Promise<IngestResult> {
    const now = Date.now();
    this.state.customerId = input.customerId;
    // A seeded session already holds the absorbed customers' events (their events are the
    // survivor's now): from their objects only the timers and trigger history are taken.
    const seed = input.seed === true && this.fresh;
    const replay = input.replay ?? [];
    for (const mergedId of input.absorb) await this.absorb(mergedId, !seed);
    // Without this batch's events (D1 has them already): they are applied below, and start timers.
    const history = seed || replay.length > 0 ? await this.storedEvents(input.customerId, new Set(input.events.map((e) => e.messageId))) : [];
    if (seed) this.state.session = applyToSession(emptySession(), history, this.options).state;
    const { state: session, applied } = applyToSession(this.state.session, input.events, this.options);
    const changes = [...(replay.length > 0 ? planTimers(byTime(history), replay, now) : []), ...planTimers(applied, input.triggers, now)];
    // The customer joins a catalog trigger's audience with the products viewed before (the
    // pipeline records this batch's views itself).
    if (replay.some(startsOnCatalogChange)) {
      const shard = shards(this.env).of(input.customerId);
      await runBatch(shard, [productViewStatement(shard, latestViews(input.customerId, history))].filter((v) => v !== null));
    }
    this.ctx.storage.transactionSync(() => {
      applyTimerChanges(this.state.timers, changes);
      this.state.session = session;
      if (input.document) this.acceptDocument(input.document);
      else if (applied.length > 0 && this.state.snapshot) this.state.snapshot.dirty = true;
      this.save();
    });
    await this.flushSnapshot(now);
    await this.reschedule(now);
    return { applied: applied.length, rowsWritten: this.takeWritten() };
  }

  /**
   * Events about the customer that are not their activity (a catalog change for a product they
   * viewed): they start and cancel timers, and leave the session alone.
   */
  async notify(input: Pick<IngestInput, "customerId" | "events" | "triggers">): Promise<IngestResult> {
    const now = Date.now();
    const named = this.state.customerId === null;
    this.state.customerId ??= input.customerId;
    const touched = applyTimerChanges(this.state.timers, planTimers(byTime(input.events), input.triggers, now));
    // Nothing to store when no timer changed (a repeated notification, a trigger that keeps).
    if (touched > 0 || named) this.save();
    await this.reschedule(now);
    return { applied: touched, rowsWritten: this.takeWritten() };
  }

  /** The read path's first read of a customer: start its snapshot (with the session). */
  async publish(doc: CustomerProfile): Promise<SessionView> {
    const now = Date.now();
    this.state.customerId = doc.id;
    // Derived from every stored event: the pipeline may not have called this object before.
    this.state.session = await this.derivedSession(doc.id);
    this.acceptDocument(doc);
    this.save();
    await this.flushSnapshot(now);
    await this.reschedule(now);
    // The read path's rows: not reported by the next ingest as its own.
    this.takeWritten();
    return sessionView(this.state.session, this.options);
  }

  async view(): Promise<SessionView> {
    return sessionView(this.state.session, this.options);
  }

  /** Every event stored here, as one JSON array (the events API, exports, unmerges). */
  async storedEventsJson(): Promise<string> {
    return this.events.allJson();
  }

  /** Pending timers and the trigger history, for the admin API. */
  async triggers(): Promise<{ timers: TimerRow[]; firings: FiringRow[] }> {
    return {
      timers: Object.values(this.state.timers).sort((a, b) => a.fire_at - b.fire_at),
      firings: this.sql.exec<FiringRow>("SELECT id, trigger_id, timer_id, at, outcome, reason, NULL AS message FROM firings WHERE outcome NOT IN ('recording', 'recorded') ORDER BY at DESC LIMIT 200").toArray(),
    };
  }

  /** Everything this object holds, for the survivor of a merge. Cleared by `clear` afterwards. */
  async handOver(): Promise<Handover> {
    return {
      session: this.state.session,
      timers: Object.values(this.state.timers),
      firings: this.sql.exec<FiringRow>("SELECT * FROM firings").toArray(),
      eventsJson: this.events.allJson(),
    };
  }

  /** Deletes everything: after a merge handed it over, or when the customer is erased. */
  async clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.sql.exec(`${STATE_TABLE} ${FIRINGS_TABLE}`);
    this.events.reset();
    this.state = emptyState();
    this.fresh = true;
  }

  /**
   * The customer's stored events, but those in `except`: those kept here, or those its D1 row
   * still holds if events have not moved here yet.
   */
  private async storedEvents(customerId: string, except: ReadonlySet<string> = new Set()): Promise<StoredEvent[]> {
    const here = this.events.all();
    const profile = here.length > 0 ? null : await loadProfile(shards(this.env), customerId);
    const events = profile ? await rowHeldEvents(shards(this.env), profile) : here;
    return except.size > 0 ? events.filter((e) => !except.has(e.messageId)) : events;
  }

  /** The session as the customer's stored events (D1) make it. */
  private async derivedSession(customerId: string): Promise<SessionState> {
    return applyToSession(emptySession(), await this.storedEvents(customerId), this.options).state;
  }

  private async absorb(mergedId: string, mergeSession: boolean): Promise<void> {
    if (mergedId === this.state.customerId) return;
    const other = this.env.SESSIONS.getByName(mergedId);
    if (!this.state.absorbed.includes(mergedId)) {
      const handed = await other.handOver();
      this.ctx.storage.transactionSync(() => {
        // Applied already: the merge combined the two profiles.
        this.events.import([{ events: JSON.parse(handed.eventsJson) as StoredEvent[], counted: true } satisfies ChunkImport], Date.now());
        if (mergeSession) this.state.session = mergeSessions(this.state.session, handed.session, this.options);
        for (const t of handed.timers) {
          const mine = this.state.timers[t.id];
          if (!mine || mine.started_at < t.started_at) this.state.timers[t.id] = t;
        }
        for (const f of handed.firings) this.write("INSERT OR IGNORE INTO firings (id, trigger_id, timer_id, at, outcome, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)", f.id, f.trigger_id, f.timer_id, f.at, f.outcome, f.reason, f.message);
        this.state.absorbed = [...this.state.absorbed, mergedId].slice(-100);
        this.save();
      });
    }
    // Cleared only once absorbed here; a retry after a crash in between clears again.
    await other.clear();
    log("info", "session.absorbed", { customerId: this.state.customerId, mergedId });
  }

  private acceptDocument(doc: CustomerProfile): void {
    const held = this.state.snapshot;
    if (held && held.doc.version > doc.version) {
      // An older version from a slower consumer: keep ours, but the session may have changed.
      held.dirty = true;
      return;
    }
    this.state.snapshot = { doc, writtenAt: held?.writtenAt ?? 0, dirty: true };
  }

  /**
   * Writes the snapshot to KV if it changed, at most once a second (the rest waits for the alarm).
   * That it was written is noted in memory only, and stored with the next save: saving it here
   * was a second storage row written (and billed) per call. If the object is evicted first, its
   * stored state still says "not written", and the next call or alarm writes the same snapshot
   * once more.
   */
  private async flushSnapshot(now: number): Promise<void> {
    const snap = this.state.snapshot;
    if (!snap?.dirty || now - snap.writtenAt < KV_WRITE_SPACING_MS) return;
    await writeSnapshot(this.env.PROFILES, { ...snap.doc, session: sessionView(this.state.session, this.options) });
    snap.dirty = false;
    snap.writtenAt = now;
  }

  private async reschedule(now: number): Promise<void> {
    const snap = this.state.snapshot;
    const candidates = [earliestTimer(this.state.timers), snap?.dirty ? snap.writtenAt + KV_WRITE_SPACING_MS : null, this.retentionDue()];
    if (this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM firings WHERE outcome IN ('sending', 'recording')").one().n > 0) candidates.push(now);
    const next = candidates.filter((t): t is number => t !== null).reduce<number | null>((a, b) => (a === null ? b : Math.min(a, b)), null);
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== next) {
      // Never past what an alarm can hold (2189): a timer due further off is woken for sooner and
      // the alarm set again then. Ingest keeps event times believable; packs older than that
      // rule may not be.
      await this.ctx.storage.setAlarm(Math.min(Math.max(next, now), now + MAX_ALARM_AHEAD_MS));
    }
  }

  /**
   * When the oldest stored chunk expires (EVENT_RETENTION_DAYS from its storing), rounded up to a
   * whole day: an active customer's object wakes at most once a day for it, and takes every chunk
   * expired by then.
   */
  private retentionDue(): number | null {
    const oldest = this.events.oldestStoredAt();
    if (oldest === null) return null;
    return Math.ceil((oldest + readConfig(this.env).eventRetentionDays * DAY_MS) / DAY_MS) * DAY_MS;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.takeWritten();
    this.events.deleteBefore(now - readConfig(this.env).eventRetentionDays * DAY_MS);
    await this.sendOutbox();
    await this.flushSnapshot(now);
    const due = dueTimers(this.state.timers, now, FIRE_BATCH);
    if (due.length > 0) await this.fire(due, now);
    this.write("DELETE FROM firings WHERE at < ? AND outcome NOT IN ('sending', 'recording')", now - FIRINGS_KEPT_MS);
    await this.reschedule(now);
    log("info", "session.alarm", { customerId: this.state.customerId, due: due.length, rowsWritten: this.takeWritten(), ms: Date.now() - now });
  }

  private async fire(due: TimerRow[], now: number): Promise<void> {
    const d1 = this.env.DB;
    const definitions = new Map<string, StoredTrigger | null>();
    for (const id of new Set(due.map((t) => t.trigger_id))) definitions.set(id, await getTrigger(d1, id));
    // Read once, and only if a timer gets as far as needing the customer.
    let customer: Promise<CustomerProfile | null> | undefined;
    const loadCustomer = () => {
      customer ??= (async () => {
        const [profile] = await Promise.all([this.state.customerId ? loadProfile(shards(this.env), this.state.customerId) : null, loadPopulationCurve(this.env.PROFILES)]);
        return profile ? { ...toDocument(profile.id, profile.state, profile.identities, profile.version, profile.updatedAt, profile.segments, profile.scores), session: sessionView(this.state.session, this.options) } : null;
      })();
      return customer;
    };
    let deferred = false;
    for (const timer of due) {
      // A held-out firing counts against the cap as a sent one: both arms of a holdout see the same cap.
      const sentAt = this.sql.exec<{ at: number }>("SELECT at FROM firings WHERE trigger_id = ? AND outcome IN ('sent', 'sending', 'held')", timer.trigger_id).toArray().map((r) => r.at);
      const firing = await firingOf(timer, definitions.get(timer.trigger_id), { now, customer: loadCustomer, sessionTimeZone: this.state.session.timeZone ?? null, sentAt });
      // An ingest call may have restarted or cancelled the timer while this one awaited D1.
      const held = this.state.timers[timer.id];
      if (held?.started_at !== timer.started_at) continue;
      if (firing.action === "defer") {
        held.fire_at = firing.until;
        deferred = true;
        log("info", "trigger.deferred", { customerId: this.state.customerId, triggerId: timer.trigger_id, until: new Date(firing.until).toISOString() });
      } else if (firing.action === "drop") {
        this.settle(timer, { id: `${timer.id}|${timer.started_at}`, at: now, outcome: firing.outcome, reason: firing.reason, message: null });
        log("info", "trigger.dropped", { customerId: this.state.customerId, triggerId: timer.trigger_id, outcome: firing.outcome, reason: firing.reason });
      } else {
        // The outbox: recorded (and the timer gone) before the message is sent; with it, for a
        // trigger with a holdout, the profile's record of the firing and its arm.
        const record = firing.record ? firingEventJson(firing.record) : null;
        if (firing.action === "hold") this.settle(timer, { id: firing.deliveryId, at: now, outcome: "held", reason: null, message: null }, record);
        else this.settle(timer, { id: firing.deliveryId, at: now, outcome: "sending", reason: null, message: firing.body }, record);
        if (firing.action === "hold") log("info", "trigger.held_out", { customerId: this.state.customerId, triggerId: timer.trigger_id, deliveryId: firing.deliveryId });
      }
    }
    if (deferred) this.save();
    await this.sendOutbox();
  }

  /** A timer's end, recorded in its firing row and gone from the pending timers, atomically. */
  private settle(timer: TimerRow, firing: Pick<FiringRow, "id" | "at" | "outcome" | "reason" | "message">, record: string | null = null): void {
    this.ctx.storage.transactionSync(() => {
      this.write("INSERT OR IGNORE INTO firings (id, trigger_id, timer_id, at, outcome, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)", firing.id, timer.trigger_id, timer.id, firing.at, firing.outcome, firing.reason, firing.message);
      if (record) this.write("INSERT OR IGNORE INTO firings (id, trigger_id, timer_id, at, outcome, reason, message) VALUES (?, ?, ?, ?, 'recording', NULL, ?)", `${firing.id}:record`, timer.trigger_id, timer.id, firing.at, record);
      delete this.state.timers[timer.id];
      this.save();
    });
  }

  /** Hands unsent messages to the delivery queue; each is marked sent once the queue has it. */
  private async sendOutbox(): Promise<void> {
    await this.sendRecords();
    const pending = this.sql.exec<FiringRow>("SELECT * FROM firings WHERE outcome = 'sending' ORDER BY at LIMIT 100").toArray();
    if (pending.length === 0) return;
    await this.env.DELIVERIES.sendBatch(pending.map((f) => ({ body: JSON.parse(f.message!) as DeliveryMessage })));
    for (const f of pending) this.write("UPDATE firings SET outcome = 'sent', message = NULL WHERE id = ?", f.id);
    log("info", "trigger.fired", { customerId: this.state.customerId, deliveries: pending.map((f) => f.id) });
  }

  /** Hands the firings' records (triggers with a holdout) to the events queue; resent ones are duplicates there. */
  private async sendRecords(): Promise<void> {
    const pending = this.sql.exec<FiringRow>("SELECT * FROM firings WHERE outcome = 'recording' ORDER BY at LIMIT 100").toArray();
    if (pending.length === 0) return;
    await queueFiringEvents(this.env, pending.map((f) => f.message!), `alarm:${this.state.customerId}`);
    for (const f of pending) this.write("UPDATE firings SET outcome = 'recorded', message = NULL WHERE id = ?", f.id);
  }
}
