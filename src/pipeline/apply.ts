/**
 * Stage 2 of a commit, pure: one customer's group after identity resolution becomes its new
 * state. Absorbed profiles are combined into the survivor, the events its object answered as not
 * yet applied (store-events.ts) are applied, and segments are evaluated on the result (against
 * the survivor's memberships: an absorbed profile's went with it).
 */
import type { StoredEvent } from "../model/events";
import type { Membership } from "../model/membership";
import type { Scores } from "../model/scores";
import type { NormalizeOptions } from "../identity/normalize";
import type { ResolvedGroup } from "../identity/resolve";
import { applyEvents, type ProfileState } from "../profiles/apply";
import type { Attribution, EngagementCount } from "../profiles/engagement";
import { combine } from "../profiles/merge";
import type { StoredProfile } from "../profiles/store";
import { membersOf } from "../segments/evaluate";
import { nextMembership, sameMembership, type Transition } from "../segments/membership";
import type { SegmentRules } from "../segments/rules";
import { scoresOf } from "../models/scores";
import { ConcurrentWriteError } from "./retries";
import type { StoredBatch } from "./store-events";

export interface ApplyContext {
  rules: SegmentRules;
  normalize: NormalizeOptions;
  now: number;
  /** What the customers' objects answered (stage 2), and customers whose derived traits were just completed. */
  stored: Pick<StoredBatch, "fresh" | "seq"> & Partial<Pick<StoredBatch, "moved">>;
  derived: ReadonlySet<string>;
  /** How conversions are credited to email touches (model/config.ts). */
  attribution?: Attribution;
}

/** A customer's group applied: where it started from, its new state and whether anything changed. */
export interface Applied {
  survivor: StoredProfile | undefined;
  absorbed: StoredProfile[];
  base: ReturnType<typeof combine>;
  /** The events to apply: the group's not stored before, and any stored earlier but never applied. */
  fresh: StoredEvent[];
  /** The watermark of the customer's object after this write; null: the row still holds its events. */
  eventSeq: number | null;
  /** The customers it has absorbed (its own, those of the customers it absorbs now, and these), and when their events moved in (0: not yet). */
  absorbedIds: Record<string, number>;
  state: ProfileState;
  scores: Scores | null;
  previous: Membership;
  membership: Membership;
  transitions: Transition[];
  changed: boolean;
  /** What this customer's new events add to the engagement reports (written with its row). */
  engagement: EngagementCount[];
}

export function applyGroup(group: ResolvedGroup, profiles: ReadonlyMap<string, StoredProfile>, ctx: ApplyContext): Applied {
  const survivor = profiles.get(group.customerId);
  const absorbed = group.merges.map((m) => profiles.get(m.customerId));
  // A customer read a moment ago is gone (merged or erased meanwhile): the commit starts over.
  if ((!group.isNew && !survivor) || absorbed.some((p) => !p)) throw new ConcurrentWriteError(`A customer vanished while processing; rapport_version_conflict`);
  const merged = absorbed as StoredProfile[];
  const base = combine(survivor, merged);
  const fresh = ctx.stored.fresh.get(group.customerId) ?? [];
  const eventSeq = ctx.stored.seq.get(group.customerId) ?? survivor?.eventSeq ?? (survivor ? null : 0);
  const moved = ctx.stored.moved?.get(group.customerId) ?? [];
  const absorbedIds = absorbedOf(survivor, merged, moved, ctx.now);
  const engagement: EngagementCount[] = [];
  const state = applyEvents(base.state, fresh, { ...ctx.normalize, aggregateSpecs: ctx.rules.specs, ...(ctx.attribution ? { attribution: ctx.attribution } : {}), onEngagementCounts: (c) => engagement.push(...c) });
  const previous = survivor?.segments ?? {};
  const scores = scoresOf(ctx.rules, state, ctx.now);
  const { membership, transitions } = nextMembership(previous, membersOf(ctx.rules.segments, state, ctx.now, scores), ctx.rules.segments, ctx.now);
  // A moved watermark is a change too: the events the row held moved into the object.
  const changed = fresh.length > 0 || group.newIdentities.length > 0 || group.merges.length > 0 || moved.length > 0 || ctx.derived.has(group.customerId) || !sameMembership(previous, membership) || (survivor !== undefined && eventSeq !== survivor.eventSeq);
  return { survivor, absorbed: merged, absorbedIds, base, fresh, eventSeq, state, scores, previous, membership, transitions, changed, engagement };
}

/** The survivor's list of absorbed customers after this write: a customer's events moved in when any list says so. */
function absorbedOf(survivor: StoredProfile | undefined, merged: readonly StoredProfile[], moved: readonly string[], now: number): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (id: string, at: number) => {
    out[id] = Math.max(out[id] ?? 0, at);
  };
  for (const p of [...(survivor ? [survivor] : []), ...merged]) for (const [id, at] of Object.entries(p.absorbed)) add(id, at);
  for (const p of merged) add(p.id, 0);
  for (const id of moved) add(id, now);
  return out;
}
