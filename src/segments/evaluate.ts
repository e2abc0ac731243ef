/**
 * Segment membership of one profile at one instant. Pure: the pipeline calls it for every profile
 * a batch changes, the daily pass for every profile (rules that depend on time), the dry run for
 * a draft rule.
 *
 * Unknown values: a trait or computed trait the profile does not have fails every comparison
 * except `not_exists` and `neq`, as trigger conditions do.
 */
import type { ProfileState } from "../profiles/apply";
import { compare, valueAt } from "../model/rules";
import { countAt, countSpec } from "../profiles/aggregates";
import { engagementAt, favourite } from "../profiles/computed";
import type { ComputedCondition, ComputedField, Rule, Segment } from "./definition";
import type { Scores } from "../model/scores";

const DAY_MS = 86_400_000;

const daysSince = (at: number | null | undefined, now: number) => (at === null || at === undefined ? undefined : Math.floor((now - at) / DAY_MS));

/** The value of a computed trait, as rules compare it. */
export function computedValue(state: ProfileState, field: ComputedField, now: number, currency?: string, scores?: Scores | null): unknown {
  const c = state.computed;
  switch (field) {
    case "purchasePropensity":
      return scores?.purchase_30d?.[0];
    case "churnRisk":
      return scores?.churn_30d?.[0];
    case "rfmRecency":
      return scores?.rfm?.[0];
    case "rfmFrequency":
      return scores?.rfm?.[1];
    case "rfmMonetary":
      return scores?.rfm?.[2];
    case "historicalClv":
      return scores?.clv?.historical;
    case "predictedClv":
      return scores?.clv?.predicted;
    case "eventCount":
      return state.eventCount;
    case "daysSinceLastSeen":
      return daysSince(state.lastSeenAt, now);
    case "daysSinceFirstSeen":
      return daysSince(state.firstSeenAt, now);
  }
  if (!c) return undefined;
  switch (field) {
    case "orderCount":
      return c.orders;
    case "totalRevenue":
    case "averageOrderValue": {
      const main = currency ?? Object.keys(c.revenue).sort((x, y) => c.revenue[y]![0] - c.revenue[x]![0] || x.localeCompare(y))[0];
      const [cents, orders] = (main !== undefined && c.revenue[main]) || [0, 0];
      if (field === "totalRevenue") return cents / 100;
      return orders === 0 ? undefined : cents / orders / 100;
    }
    case "engagementScore":
      return engagementAt(c.engagement, now);
    case "daysSinceLastOrder":
      return daysSince(c.lastOrderAt, now);
    case "daysSinceFirstOrder":
      return daysSince(c.firstOrderAt, now);
    case "favouriteCategory":
      return favourite(c.categories) ?? undefined;
    case "favouriteBrand":
      return favourite(c.brands) ?? undefined;
  }
}

/**
 * Computed values of one profile at one instant, each computed once however many rules read it
 * (an engagement score walks a year of days; twenty segments would walk it twenty times).
 */
type Memo = Map<string, unknown>;

function memoized(memo: Memo | undefined, state: ProfileState, field: ComputedField, now: number, currency: string | undefined, scores: Scores | null): unknown {
  if (!memo) return computedValue(state, field, now, currency, scores);
  const key = currency ? `${field}:${currency}` : field;
  if (!memo.has(key)) memo.set(key, computedValue(state, field, now, currency, scores));
  return memo.get(key);
}

/** Does the rule hold? `members` are the segments the profile is in (those evaluated before). */
export function holds(rule: Rule, state: ProfileState, now: number, members: ReadonlySet<string>, scores: Scores | null = null, memo?: Memo): boolean {
  if ("all" in rule) return rule.all.every((r) => holds(r, state, now, members, scores, memo));
  if ("any" in rule) return rule.any.some((r) => holds(r, state, now, members, scores, memo));
  if ("not" in rule) return !holds(rule.not, state, now, members, scores, memo);
  if ("segment" in rule) return members.has(rule.segment);
  if ("trait" in rule) return compare(valueAt(state.traits, rule.trait), rule.op, rule.value);
  if ("computedTrait" in rule) return compare(scores?.custom?.[rule.computedTrait], rule.op, rule.value);
  if ("computed" in rule) return compare(memoized(memo, state, rule.computed, now, (rule as ComputedCondition).currency, scores), rule.op, rule.value);
  const n = countAt(state.aggregates, countSpec(rule), now) ?? 0;
  // Without atLeast: "at least once", unless atMost is given ("atMost: 0" is "did not").
  const min = rule.atLeast ?? (rule.atMost === undefined ? 1 : 0);
  return n >= min && (rule.atMost === undefined || n <= rule.atMost);
}

/** The enabled segments the profile is in. `segments` are in dependency order (store.ts sorts them). */
export function membersOf(segments: readonly Segment[], state: ProfileState, now: number, scores: Scores | null = null): Set<string> {
  const members = new Set<string>();
  const memo: Memo = new Map();
  for (const s of segments) if (s.definition.enabled && holds(s.definition.rule, state, now, members, scores, memo)) members.add(s.id);
  return members;
}
