/**
 * How events change a profile. Pure, and independent of arrival order: traits are last-writer-
 * wins by event time (ties broken by messageId, so every order gives the same answer), counters
 * add up, first/last seen are min/max. Deduplication happens before this, so each event counts once.
 */
import type { StoredEvent } from "../model/events";
import { normalizeTraits, type NormalizeOptions } from "../identity/normalize";
import { phoneCountryOf } from "../identity/phone-country";
import { applyComputed, emptyComputed, type ComputedState } from "./computed";
import { applyAggregates, type AggregateSpec, type Aggregates } from "./aggregates";
import { ENRICHER_SOURCE_PREFIX, enricherSource, isEnrichment, isInternalSource } from "../model/events";
import { applyExperimentEvents, type ExperimentRecords } from "./experiments";
import { applySendTime, type SendTimeState } from "./send-time";
import { applySurveyAnswers, surveyAnswerOf, surveyTrait, type SurveyAnswers } from "./survey-answers";
import { applyEngagement, TRIGGER_FIRED, type Attribution, type EngagementCount, type EngagementState } from "./engagement";

export interface Counters {
  /** Events by type: `{ track: 12, page: 40 }`. */
  types: Record<string, number>;
  /** Track events by name: `{ "Order Completed": 2 }`. */
  events: Record<string, number>;
}

/**
 * When and by what a trait value was written: [event time in ms, messageId], and the enricher's
 * source (`enricher:<id>`) when a third-party enricher supplied it.
 */
export type TraitStamp = [number, string] | [number, string, string];

export interface ProfileState {
  traits: Record<string, unknown>;
  /** Trait name → the stamp of the value held. */
  traitTimes: Record<string, TraitStamp>;
  /** Trait name → why the value held (kept as sent) could not be normalized. */
  traitIssues: Record<string, string>;
  counters: Counters;
  /**
   * The latest `context.consent.categoryPreferences` (Segment's consent object), with the event
   * time and messageId that set it: later features (triggers, content) respect it.
   */
  consent: { categoryPreferences: Record<string, boolean>; at: [number, string] } | null;
  eventCount: number;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  /** Built-in computed traits (segments/computed.ts). Absent in profiles stored before they existed. */
  computed?: ComputedState;
  /** Event counts that segment rules ask about (segments/aggregates.ts). */
  aggregates: Aggregates;
  /** Enricher id → [the key it looked up, when (ms)]: who has been looked up (enrichment/). */
  enrichment?: Record<string, [string, number]>;
  /** Experiment id → the variant first shown and the outcomes after it (profiles/experiments.ts). */
  experiments?: ExperimentRecords;
  /** Engagement by local hour and the customer's time zone (profiles/send-time.ts). */
  sendTime?: SendTimeState;
  /** Messages received, human touches, holdout firings and credited conversions (profiles/engagement.ts). */
  engagement?: EngagementState;
  /** Survey id → the latest answer (profiles/survey-answers.ts); also the trait `survey_<id>`. */
  surveys?: SurveyAnswers;
}

export interface ApplyOptions extends NormalizeOptions {
  /** The aggregates in use (active segment rules). Without them, held aggregates are dropped, to be derived again. */
  aggregateSpecs?: readonly AggregateSpec[];
  /** Conversion events and windows for crediting email touches (model/config.ts); the defaults otherwise. */
  attribution?: Attribution;
  /** Told what the events add to the engagement reports (the pipeline writes it with the profile). */
  onEngagementCounts?: (counts: EngagementCount[]) => void;
}

export function emptyProfile(): ProfileState {
  return { traits: {}, traitTimes: {}, traitIssues: {}, counters: { types: {}, events: {} }, consent: null, eventCount: 0, firstSeenAt: null, lastSeenAt: null, computed: emptyComputed(), aggregates: {} };
}

/** Does a write stamped `stamp` (event time, messageId) win over the one held? */
export function isNewer(stamp: readonly [number, string, ...unknown[]] | undefined, held: readonly [number, string, ...unknown[]] | undefined): boolean {
  if (!stamp) return false;
  return !held || stamp[0] > held[0] || (stamp[0] === held[0] && stamp[1] > held[1]);
}

/**
 * Does a trait value stamped `stamp` replace the one held? A customer's own value (sent by a
 * source) always wins over an enriched one, whatever their times; between two own values, or two
 * enriched ones, the newer wins. A total order, so any order of events or merges gives the same.
 */
export function traitWins(stamp: TraitStamp | undefined, held: TraitStamp | undefined): boolean {
  if (!stamp) return false;
  if (!held) return true;
  const enriched = stamp[2] !== undefined;
  const heldEnriched = held[2] !== undefined;
  if (enriched !== heldEnriched) return heldEnriched;
  return isNewer(stamp, held);
}

/**
 * Returns a new state with `events` applied; `state` is not modified. Traits are normalized
 * (identity/normalize.ts) as they are applied; the stored events keep what was sent.
 */
export function applyEvents(state: ProfileState, all: readonly StoredEvent[], options: ApplyOptions = {}): ProfileState {
  // Rapport's record of a trigger firing is not something the customer did: only the engagement
  // reports read it.
  const events = all.some(isFiring) ? all.filter((e) => !isFiring(e)) : all;
  const next: ProfileState = {
    traits: { ...state.traits },
    traitTimes: { ...state.traitTimes },
    traitIssues: { ...state.traitIssues },
    counters: { types: { ...state.counters.types }, events: { ...state.counters.events } },
    consent: state.consent,
    eventCount: state.eventCount,
    firstSeenAt: state.firstSeenAt,
    lastSeenAt: state.lastSeenAt,
    // A profile stored before computed traits existed has none: adding only these events would
    // make them partial, so they stay unknown until derived from all its events (the pipeline does).
    computed: state.computed ? applyComputed(state.computed, events) : state.eventCount === 0 ? applyComputed(undefined, events) : undefined,
    aggregates: options.aggregateSpecs ? applyAggregates(state.aggregates, options.aggregateSpecs, events, state.eventCount === 0) : events.length === 0 ? state.aggregates : {},
    ...(state.enrichment ? { enrichment: { ...state.enrichment } } : {}),
  };
  const experiments = applyExperimentEvents(state.experiments, events, {
    count: (event) => state.counters.events[event] ?? 0,
    revenue: Object.values(state.computed?.revenue ?? {}).reduce((sum, [cents]) => sum + cents, 0),
  });
  if (experiments) next.experiments = experiments;
  const sendTime = applySendTime(state.sendTime, events);
  if (sendTime) next.sendTime = sendTime;
  const engagement = applyEngagement(state.engagement, all, options.attribution);
  if (engagement.state) next.engagement = engagement.state;
  if (engagement.counts.length > 0) options.onEngagementCounts?.(engagement.counts);
  const surveys = applySurveyAnswers(state.surveys, events);
  if (surveys) next.surveys = surveys;
  for (const e of events) {
    const ts = Date.parse(e.timestamp);
    const enricher = enrichmentOf(e);
    if (enricher) {
      // An enricher's answer is not something the customer did: it moves no counter and no
      // first or last seen (an import of old history must not look recent because of it).
      if (!((next.enrichment?.[enricher.id]?.[1] ?? -Infinity) >= ts)) next.enrichment = { ...next.enrichment, [enricher.id]: [enricher.key, ts] };
    } else {
      next.eventCount += 1;
      next.counters.types[e.type] = (next.counters.types[e.type] ?? 0) + 1;
      if (e.type === "track" && e.event) next.counters.events[e.event] = (next.counters.events[e.event] ?? 0) + 1;
      next.firstSeenAt = next.firstSeenAt === null ? ts : Math.min(next.firstSeenAt, ts);
      next.lastSeenAt = next.lastSeenAt === null ? ts : Math.max(next.lastSeenAt, ts);
      const preferences = consentOf(e);
      if (preferences && isNewer([ts, e.messageId], next.consent?.at)) next.consent = { categoryPreferences: preferences, at: [ts, e.messageId] };
    }
    // A survey answer is a trait too, last-writer-wins like any (segment rules read it).
    const answered = surveyAnswerOf(e);
    if (answered) {
      const name = surveyTrait(answered.survey);
      const stamp: TraitStamp = [ts, e.messageId];
      if (traitWins(stamp, next.traitTimes[name])) {
        next.traits[name] = answered.answer;
        next.traitTimes[name] = stamp;
      }
    }
    if (e.type === "identify" && e.traits) {
      // A phone without a country code is read in the country the event says (identity/phone-country.ts).
      const { traits, issues } = normalizeTraits(e.traits, { ...options, defaultPhoneCountry: phoneCountryOf(e, options.defaultPhoneCountry) });
      const writtenAt = recordTime(e) ?? ts;
      for (const [name, value] of Object.entries(traits)) {
        const stamp: TraitStamp = enricher ? [writtenAt, e.messageId, enricher.source] : [writtenAt, e.messageId];
        if (traitWins(stamp, next.traitTimes[name])) {
          next.traits[name] = value;
          next.traitTimes[name] = stamp;
          if (issues[name]) next.traitIssues[name] = issues[name];
          else delete next.traitIssues[name];
        }
      }
    }
  }
  return next;
}

/** Rapport's own `Trigger Fired` (profiles/engagement.ts): bookkeeping for holdouts. */
export const isFiring = (e: StoredEvent) => e.type === "track" && e.event === TRIGGER_FIRED && isInternalSource(e.sourceId);

/**
 * An enricher's identify (enrichment/job.ts): its sourceId says so, which no client can send, and
 * `context.enrichment` says which key it looked up.
 */
function enrichmentOf(e: StoredEvent): { id: string; key: string; source: string } | null {
  if (!isEnrichment(e)) return null;
  const id = e.sourceId.slice(ENRICHER_SOURCE_PREFIX.length);
  const key = (e.context?.enrichment as { key?: unknown } | undefined)?.key;
  return { id, key: typeof key === "string" ? key : "", source: enricherSource(id) };
}

/** `context.consent.categoryPreferences`, its true/false values, when it has any. */
function consentOf(e: StoredEvent): Record<string, boolean> | null {
  const prefs = (e.context?.consent as { categoryPreferences?: unknown } | undefined)?.categoryPreferences;
  if (typeof prefs !== "object" || prefs === null || Array.isArray(prefs)) return null;
  const out: Record<string, boolean> = {};
  for (const [category, allowed] of Object.entries(prefs)) if (typeof allowed === "boolean") out[category] = allowed;
  // Nothing readable (strings from a CSV, an empty object) says nothing: it must not wipe what
  // the customer chose.
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Systems of record (CRM, commerce) send the time their record was last updated as
 * `context.sourceUpdatedAt`. Trait writes are then ordered by that time, not by when the update
 * was sent, so an older version of a record never overwrites a newer value, whatever the order
 * webhooks arrive in.
 */
function recordTime(e: StoredEvent): number | null {
  const value = e.context?.sourceUpdatedAt;
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
