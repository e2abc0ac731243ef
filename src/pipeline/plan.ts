/**
 * Stage 3 of a commit, pure: what the batch writes and whom it calls. Per customer that changed
 * (or every customer, on redelivery): its profile row, the customers it absorbed, its segment
 * transitions and scores, its product views, the KV document its session object writes, the
 * call to that object and the trigger notifications of its segment transitions.
 */
import type { StoredEvent } from "../model/events";
import { isEnrichment } from "../model/events";
import type { Scores } from "../model/scores";
import type { ResolvedGroup } from "../identity/resolve";
import { contactOf, toDocument, type CustomerProfile } from "../profiles/document";
import type { ProfileWrite, StoredProfile } from "../profiles/store";
import { recentTransitions, RESEND_WINDOW_MS, transitionEvent } from "../segments/membership";
import type { MembershipChange } from "../segments/members-store";
import type { Trigger } from "../triggers/definition";
import { concerns } from "../triggers/match";
import { canReach } from "../triggers/conditions";
import { latestViews, type ProductView } from "../catalog/audience";
import type { IngestInput } from "../sessions/contract";
import { sameRecord } from "../profiles/experiments";
import type { TallyRow } from "../experiments/totals";
import type { EngagementCount } from "../profiles/engagement";
import { hourDeltas } from "../profiles/send-time";
import { answerDeltas } from "../profiles/survey-answers";
import { applyGroup, type ApplyContext, type Applied } from "./apply";
import type { MergeWrite } from "./merge-statements";
import type { Resolved } from "./resolve";

export interface PlanContext extends ApplyContext {
  triggers: readonly Trigger[];
  /** Send every customer touched to its object, changed or not (a retry of a batch). */
  redelivered: boolean;
  /**
   * The triggers that start on a catalog event (price drop, restock): product views are their
   * audience, recorded only for customers one of them can reach (none: no views recorded).
   */
  audience: readonly Trigger[];
}

/** Segment transitions for the triggers that start or stop on them. */
export interface Notification {
  customerId: string;
  events: StoredEvent[];
  triggers: Trigger[];
}

export interface CommitPlan {
  writes: ProfileWrite[];
  merges: MergeWrite[];
  membershipChanges: MembershipChange[];
  scores: Scores[];
  views: ProductView[];
  /** Every new event of the batch (product popularity for content recommendations). */
  newEvents: StoredEvent[];
  sessionCalls: IngestInput[];
  notifications: Notification[];
  /** Merges of this batch: the survivor's object takes in the absorbed customers' events once D1 has committed. */
  eventMoves: { survivorId: string; mergedIds: string[]; watermark: number }[];
  /** Per experiment: customers' records for its tally object, and customers merged away (experiments/tally.ts). */
  tallies: Map<string, { rows: TallyRow[]; removed: string[] }>;
  /** What the customers' email events add to the engagement reports: written with their rows, in their shard. */
  engagement: { customerId: string; counts: EngagementCount[] }[];
  /** What the customers' new engagement adds by local hour to the population curve (profiles/population-curve.ts). */
  sendHours: { customerId: string; hours: number[] }[];
  /** Customers moving between survey answers (profiles/survey-answers.ts): written with their rows. */
  surveyAnswers: { customerId: string; deltas: { survey: string; answer: string; d: number }[] }[];
  /** Snapshots the session objects rewrite, and snapshots of absorbed customers to delete. */
  documents: number;
  retiredSnapshots: string[];
  duplicates: number;
}

export function planCommit(resolved: Pick<Resolved, "groups" | "profiles"> & Partial<Pick<Resolved, "resumed">>, ctx: PlanContext): CommitPlan {
  const plan: CommitPlan = { writes: [], merges: [], eventMoves: [], membershipChanges: [], scores: [], views: [], newEvents: [], sessionCalls: [], notifications: [], tallies: new Map(), engagement: [], sendHours: [], surveyAnswers: [], documents: 0, retiredSnapshots: [], duplicates: 0 };
  const views: ProductView[] = [];
  for (const group of resolved.groups) {
    const applied = applyGroup(group, resolved.profiles, ctx);
    const applying = new Set(applied.fresh.map((e) => e.messageId));
    plan.duplicates += group.events.filter((e) => !applying.has(e.messageId)).length;
    plan.newEvents.push(...applied.fresh);
    if (!applied.changed && !ctx.redelivered) continue;
    const notification = notificationOf(group.customerId, applied, ctx);
    if (notification) plan.notifications.push(notification);
    if (applied.transitions.length > 0) plan.membershipChanges.push({ customerId: group.customerId, transitions: applied.transitions });
    const reach = reachOf(group, applied, ctx);
    // An enricher's answers change traits, not the visit: sessions and triggers do not see them.
    const sessionEvents = (ctx.redelivered ? group.events : applied.fresh).filter((e) => !isEnrichment(e));
    const concerned = reach.triggers.filter((t) => sessionEvents.some((e) => concerns(t, e)));
    // The customer's session object is called once it has started, when the customer is served
    // (its snapshot carries the session) or when a trigger that can reach the customer concerns
    // its events or has just become able to. Until then it is not: most visitors are never read
    // and cannot be written to, and their session can be derived from their stored events when
    // needed, so they cost no Durable Object request.
    const callSession = applied.base.sessionAt !== null || applied.base.servedAt !== null || concerned.length > 0 || reach.replay.length > 0;
    if (applied.changed) addWrites(plan, group, applied, callSession, ctx.now, resolved.resumed ?? new Set());
    addTallies(plan, group.customerId, applied, ctx.redelivered);
    const document = documentOf(group, applied, ctx.now);
    if (document) plan.documents++;
    if (reach.recordsViews) views.push(...latestViews(group.customerId, applied.fresh));
    if (!callSession) continue;
    plan.sessionCalls.push({
      customerId: group.customerId,
      events: sessionEvents,
      triggers: concerned,
      document,
      absorb: applied.absorbed.filter((p) => p.sessionAt !== null).map((p) => p.id),
      // An object starting for a customer with a history derives the session from all of it
      // (the object knows whether it is starting: a retry after a failed start seeds again).
      seed: applied.survivor !== undefined || group.merges.length > 0,
      ...(reach.replay.length > 0 ? { replay: reach.replay } : {}),
    });
  }
  plan.views = views;
  return plan;
}

/**
 * Which triggers can reach the customer after this batch (triggers/conditions.ts canReach); those
 * that could not reach a stored profile of the group before and can now (an email arrived, or a
 * merge brought one): the object replays the stored history for them (timers, and the product
 * views of a catalog trigger's audience); and whether this batch's views join that audience.
 */
function reachOf(group: ResolvedGroup, applied: Applied, ctx: PlanContext): { triggers: Trigger[]; replay: Trigger[]; recordsViews: boolean } {
  const now = contactOf(applied.state, [...applied.base.identities, ...group.newIdentities]);
  const before = [applied.survivor, ...applied.absorbed].filter((p): p is StoredProfile => p !== undefined).map((p) => contactOf(p.state, p.identities));
  const wasOutOfReach = (t: Trigger) => before.some((contact) => !canReach(t, contact));
  const triggers = ctx.triggers.filter((t) => canReach(t, now));
  // A retry cannot tell whether the first attempt's replay reached the object (D1 already says
  // the customer is reachable): it replays again, which starts nothing twice (an old start keeps
  // a newer timer; a fired timer that comes back gets the same delivery id, already sent).
  const replay = ctx.redelivered && before.length > 0 ? triggers : triggers.filter(wasOutOfReach);
  return { triggers, replay, recordsViews: ctx.audience.some((t) => canReach(t, now)) };
}

/**
 * Entries and exits go to the triggers that start or stop on them; on a retry, those an earlier
 * attempt committed go again (the object may not have had them; their ids repeat).
 */
function notificationOf(customerId: string, applied: Applied, ctx: PlanContext): Notification | null {
  const resent = ctx.redelivered ? recentTransitions(applied.previous, ctx.now - RESEND_WINDOW_MS) : [];
  const events = [...applied.transitions, ...resent].map((t) => transitionEvent(customerId, t, ctx.rules.names));
  if (events.length === 0) return null;
  const triggers = ctx.triggers.filter((t) => events.some((e) => concerns(t, e)));
  return triggers.length > 0 ? { customerId, events, triggers } : null;
}

/** The customer's row, and the rows of the customers it absorbed (their snapshots retire). */
function addWrites(plan: CommitPlan, group: ResolvedGroup, applied: Applied, callSession: boolean, now: number, resumed: ReadonlySet<string>): void {
  const { survivor, base } = applied;
  if (applied.scores) plan.scores.push(applied.scores);
  if (applied.engagement.length > 0) plan.engagement.push({ customerId: group.customerId, counts: applied.engagement });
  const hours = hourDeltas(base.state.sendTime, applied.state.sendTime);
  if (hours) plan.sendHours.push({ customerId: group.customerId, hours });
  const answers = answerDeltas([survivor?.state.surveys, ...applied.absorbed.map((p) => p.state.surveys)], applied.state.surveys);
  if (answers.length > 0) plan.surveyAnswers.push({ customerId: group.customerId, deltas: answers });
  plan.writes.push({
    customerId: group.customerId,
    previousVersion: survivor?.version ?? null,
    state: applied.state,
    identities: base.identities,
    newIdentities: group.newIdentities,
    eventSeq: applied.eventSeq,
    absorbed: applied.absorbedIds,
    rowHeldEvents: survivor !== undefined && survivor.eventSeq === null && applied.eventSeq !== null,
    segments: applied.membership,
    scores: applied.scores,
    servedAt: base.servedAt,
    sessionAt: base.sessionAt ?? (callSession ? now : null),
    createdAt: survivor?.createdAt ?? now,
    now,
  });
  if (group.merges.length > 0) plan.eventMoves.push({ survivorId: group.customerId, mergedIds: group.merges.map((m) => m.customerId), watermark: applied.eventSeq ?? 0 });
  group.merges.forEach((m, i) => {
    const merged = applied.absorbed[i]!;
    plan.merges.push({ survivorId: group.customerId, merged, cause: { messageId: m.messageId, keys: m.keys }, now, ...(resumed.has(merged.id) ? { resumed: true } : {}) });
    if (merged.servedAt) plan.retiredSnapshots.push(merged.id);
  });
}

/**
 * The experiment records this write changed (every record on a retry: the tally object may not
 * have had them), stamped with the profile version they are written at, and the absorbed
 * customers' records to remove (the survivor's record now holds their outcomes).
 */
function addTallies(plan: CommitPlan, customerId: string, applied: Applied, redelivered: boolean): void {
  const tally = (id: string) => {
    const held = plan.tallies.get(id);
    if (held) return held;
    const t: { rows: TallyRow[]; removed: string[] } = { rows: [], removed: [] };
    plan.tallies.set(id, t);
    return t;
  };
  const previous = applied.survivor?.state.experiments ?? {};
  const version = applied.changed ? (applied.survivor?.version ?? 0) + 1 : (applied.survivor?.version ?? 0);
  for (const [id, r] of Object.entries(applied.state.experiments ?? {})) {
    if (!redelivered && sameRecord(previous[id], r)) continue;
    tally(id).rows.push({ customerId, version, variant: r.variant, at: r.at, conversions: r.conversions, revenue: r.revenue, clicks: r.clicks, unsubscribes: r.unsubscribes, complaints: r.complaints, ...(r.pre ? { pre: r.pre } : {}) });
  }
  for (const p of applied.absorbed) for (const id of Object.keys(p.state.experiments ?? {})) tally(id).removed.push(p.id);
}

/**
 * The KV document of a customer the read API has served (see markServed): ingest pays no KV
 * write ($5 per million) for the many profiles nobody reads, anonymous visitors above all. The
 * first read of a customer comes from D1 and starts its snapshot.
 */
function documentOf(group: ResolvedGroup, applied: Applied, now: number): CustomerProfile | null {
  const { survivor, base, changed } = applied;
  if (!base.servedAt || !survivor) return null;
  const version = changed ? survivor.version + 1 : survivor.version;
  const identities = [...base.identities, ...group.newIdentities];
  return toDocument(group.customerId, applied.state, identities, version, changed ? now : survivor.updatedAt, applied.membership, changed ? applied.scores : survivor.scores);
}
