/**
 * Combining two profiles of one person. Pure, commutative and associative: traits are
 * last-writer-wins by event time (ties by messageId), consent likewise, counters add up, first and
 * last seen are min and max. So the merged profile does not depend on which one absorbed the other.
 */
import { addCounts, maxOf, minOf } from "../kernel/values";
import type { Identity } from "../model/identity";
import { emptyProfile, isNewer, traitWins, type ProfileState, type TraitStamp } from "./apply";
import type { StoredProfile } from "./store";
import { mergeComputed } from "./computed";
import { mergeAggregates } from "./aggregates";
import { mergeExperimentRecords } from "./experiments";
import { mergeSendTime } from "./send-time";
import { mergeEngagement } from "./engagement";
import { mergeSurveyAnswers } from "./survey-answers";


export function mergeStates(a: ProfileState, b: ProfileState): ProfileState {
  const traits: Record<string, unknown> = {};
  const traitTimes: Record<string, TraitStamp> = {};
  const traitIssues: Record<string, string> = {};
  for (const name of new Set([...Object.keys(a.traits), ...Object.keys(b.traits)])) {
    const from = traitWins(b.traitTimes[name], a.traitTimes[name]) || !(name in a.traits) ? b : a;
    traits[name] = from.traits[name];
    const time = from.traitTimes[name];
    if (time) traitTimes[name] = time;
    const issue = from.traitIssues[name];
    if (issue) traitIssues[name] = issue;
  }
  return {
    traits,
    traitTimes,
    traitIssues,
    counters: { types: addCounts(a.counters.types, b.counters.types), events: addCounts(a.counters.events, b.counters.events) },
    consent: isNewer(b.consent?.at, a.consent?.at) ? b.consent : a.consent,
    eventCount: a.eventCount + b.eventCount,
    firstSeenAt: minOf(a.firstSeenAt, b.firstSeenAt),
    lastSeenAt: maxOf(a.lastSeenAt, b.lastSeenAt),
    // Unknown on either side (a profile from before computed traits): unknown, not partial.
    computed: a.computed && b.computed ? mergeComputed(a.computed, b.computed) : a.eventCount === 0 ? b.computed : b.eventCount === 0 ? a.computed : undefined,
    aggregates: mergeAggregates(a.aggregates, a.eventCount === 0, b.aggregates, b.eventCount === 0),
    ...mergeEnrichment(a.enrichment, b.enrichment),
    ...experimentsOf(mergeExperimentRecords(a.experiments, b.experiments)),
    ...sendTimeOf(mergeSendTime(a.sendTime, b.sendTime)),
    ...engagementOf(mergeEngagement(a.engagement, b.engagement)),
    ...surveysOf(mergeSurveyAnswers(a.surveys, b.surveys)),
  };
}

const surveysOf = (s: ProfileState["surveys"]): Pick<ProfileState, "surveys"> => (s ? { surveys: s } : {});
const engagementOf = (e: ProfileState["engagement"]): Pick<ProfileState, "engagement"> => (e ? { engagement: e } : {});
const sendTimeOf = (s: ProfileState["sendTime"]): Pick<ProfileState, "sendTime"> => (s ? { sendTime: s } : {});
const experimentsOf = (records: ProfileState["experiments"]): Pick<ProfileState, "experiments"> => (records ? { experiments: records } : {});

/** Per enricher, the later lookup (ties: the greater key), so the merge does not depend on order. */
function mergeEnrichment(a: ProfileState["enrichment"], b: ProfileState["enrichment"]): Pick<ProfileState, "enrichment"> {
  if (!a && !b) return {};
  const out: Record<string, [string, number]> = { ...a };
  for (const [id, mark] of Object.entries(b ?? {})) {
    const held = out[id];
    if (!held || mark[1] > held[1] || (mark[1] === held[1] && mark[0] > held[0])) out[id] = mark;
  }
  return { enrichment: out };
}

/** What a survivor starts from before this batch's events: itself plus every absorbed profile. */
export function combine(
  survivor: StoredProfile | undefined,
  absorbed: readonly StoredProfile[],
): { state: ProfileState; identities: Identity[]; servedAt: number | null; sessionAt: number | null } {
  // Their events are in their objects: the survivor's takes in the others' (pipeline/store-events.ts).
  const all = [...(survivor ? [survivor] : []), ...absorbed];
  const earliest = (times: (number | null)[]) => {
    const known = times.filter((t): t is number => t !== null);
    return known.length > 0 ? Math.min(...known) : null;
  };
  return {
    state: all.reduce((acc, p) => mergeStates(acc, p.state), emptyProfile()),
    identities: all.flatMap((p) => p.identities),
    servedAt: earliest(all.map((p) => p.servedAt)),
    sessionAt: earliest(all.map((p) => p.sessionAt)),
  };
}
