/**
 * Profiles stored before computed traits existed, or before a segment rule asked for an event
 * count, get them from all their stored events, once, the first time a batch touches them:
 * adding only the new events would leave them partial for good.
 */
import { mapLimited } from "../kernel/concurrency";
import { applyAggregates, missingSpecs } from "../profiles/aggregates";
import { applyComputed } from "../profiles/computed";
import type { StoredProfile } from "../profiles/store";
import { customerEvents } from "../profiles/events";
import type { SegmentRules } from "../segments/rules";

/** Reads stored events in parallel, but not for hundreds of profiles at once. */
const READS_IN_FLIGHT = 10;

/** Completes the profiles in place; returns the ids of those it completed (they count as changed). */
export async function deriveMissing(env: Env, profiles: Map<string, StoredProfile>, rules: SegmentRules): Promise<Set<string>> {
  const missing = [...profiles.values()].filter((p) => p.state.computed == null || (p.state.eventCount > 0 && missingSpecs(p.state.aggregates, rules.specs).length > 0));
  await mapLimited(missing, READS_IN_FLIGHT, async (p) => {
    const events = await customerEvents(env, p);
    if (p.state.computed == null) p.state.computed = applyComputed(undefined, events);
    const absent = missingSpecs(p.state.aggregates, rules.specs);
    if (absent.length > 0) p.state.aggregates = { ...p.state.aggregates, ...applyAggregates({}, absent, events, true) };
  });
  return new Set(missing.map((p) => p.id));
}
