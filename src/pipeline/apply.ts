/**
 * Stage 2 of a commit, pure: one customer's group after identity resolution becomes its new
 * state. Absorbed profiles are combined into the survivor, events already stored are set aside as
 * duplicates, the new ones are applied, and segments are evaluated on the result (against the
 * survivor's memberships: an absorbed profile's went with it).
 */
import type { StoredEvent } from "../model/events";
import type { Membership } from "../model/membership";
import type { Scores } from "../model/scores";
import type { NormalizeOptions } from "../identity/normalize";
import type { ResolvedGroup } from "../identity/resolve";
import { applyEvents, type ProfileState } from "../profiles/apply";
import { combine } from "../profiles/merge";
import type { StoredProfile } from "../profiles/store";
import { membersOf } from "../segments/evaluate";
import { nextMembership, sameMembership, type Transition } from "../segments/membership";
import type { SegmentRules } from "../segments/rules";
import { scoresOf } from "../models/scores";
import { ConcurrentWriteError } from "./retries";

export interface ApplyContext {
  rules: SegmentRules;
  normalize: NormalizeOptions;
  now: number;
  /** messageIds already stored (duplicates) and customers whose derived traits were just completed. */
  seen: ReadonlySet<string>;
  derived: ReadonlySet<string>;
}

/** A customer's group applied: where it started from, its new state and whether anything changed. */
export interface Applied {
  survivor: StoredProfile | undefined;
  absorbed: StoredProfile[];
  base: ReturnType<typeof combine>;
  /** The group's events not stored before. */
  fresh: StoredEvent[];
  state: ProfileState;
  scores: Scores | null;
  previous: Membership;
  membership: Membership;
  transitions: Transition[];
  changed: boolean;
}

export function applyGroup(group: ResolvedGroup, profiles: ReadonlyMap<string, StoredProfile>, ctx: ApplyContext): Applied {
  const survivor = profiles.get(group.customerId);
  const absorbed = group.merges.map((m) => profiles.get(m.customerId));
  // A customer read a moment ago is gone (merged or erased meanwhile): the commit starts over.
  if ((!group.isNew && !survivor) || absorbed.some((p) => !p)) throw new ConcurrentWriteError(`A customer vanished while processing; rapport_version_conflict`);
  const merged = absorbed as StoredProfile[];
  const base = combine(survivor, merged);
  const fresh = group.events.filter((e) => !ctx.seen.has(e.messageId));
  const state = applyEvents(base.state, fresh, { ...ctx.normalize, aggregateSpecs: ctx.rules.specs });
  const previous = survivor?.segments ?? {};
  const scores = scoresOf(ctx.rules, state, ctx.now);
  const { membership, transitions } = nextMembership(previous, membersOf(ctx.rules.segments, state, ctx.now, scores), ctx.rules.segments, ctx.now);
  const changed = fresh.length > 0 || group.newIdentities.length > 0 || group.merges.length > 0 || ctx.derived.has(group.customerId) || !sameMembership(previous, membership);
  return { survivor, absorbed: merged, base, fresh, state, scores, previous, membership, transitions, changed };
}
