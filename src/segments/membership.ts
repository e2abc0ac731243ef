/**
 * A profile's segment memberships as its row keeps them, and what changes between two
 * evaluations: each change is a `Segment Entered` or `Segment Exited` event for triggers.
 *
 * The row keeps, per segment, whether the customer is in it and since when (the last
 * transition). That makes the transitions part of the same D1 write as the profile: they are
 * found again after a crash between that write and their delivery to the customer's object, and
 * their event ids are a function of them, so delivering one twice starts one timer.
 */
import type { StoredEvent } from "../model/events";
import type { Segment } from "./definition";
import type { Membership } from "../model/membership";

/** Segment id → [1 = in it, 0 = left it, time of that transition in ms]. */

export interface Transition {
  segmentId: string;
  kind: "entered" | "exited";
  at: number;
}

export const SEGMENT_ENTERED = "Segment Entered";
export const SEGMENT_EXITED = "Segment Exited";
export const SEGMENT_EVENTS = [SEGMENT_ENTERED, SEGMENT_EXITED];

/** Transitions younger than this are sent again to the customer's object when a batch is retried. */
export const RESEND_WINDOW_MS = 3_600_000;


/**
 * The membership after an evaluation found `members`. Segments no longer defined or enabled are
 * forgotten without an exit (the segment went away, not the customer).
 */
export function nextMembership(previous: Membership, members: ReadonlySet<string>, segments: readonly Segment[], now: number): { membership: Membership; transitions: Transition[] } {
  const membership: Membership = {};
  const transitions: Transition[] = [];
  for (const s of segments) {
    if (!s.definition.enabled) continue;
    const recorded = previous[s.id];
    const held = recorded && recorded[1] >= s.membersSince ? recorded : undefined;
    const inside = members.has(s.id);
    if (inside === (held?.[0] === 1)) {
      if (held) membership[s.id] = held;
      continue;
    }
    membership[s.id] = [inside ? 1 : 0, now];
    transitions.push({ segmentId: s.id, kind: inside ? "entered" : "exited", at: now });
  }
  return { membership, transitions };
}

export const sameMembership = (a: Membership, b: Membership) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k]?.[0] === a[k]![0] && b[k]?.[1] === a[k]![1]);
};

/** The transitions recorded in a membership at or after `since` (to send again after a failure). */
export const recentTransitions = (m: Membership, since: number): Transition[] =>
  Object.entries(m)
    .filter(([, [, at]]) => at >= since)
    .map(([segmentId, [inside, at]]) => ({ segmentId, kind: inside ? "entered" : "exited", at }));

/** The event a transition is for the customer's object (its id is a function of the transition). */
export function transitionEvent(customerId: string, t: Transition, names: ReadonlyMap<string, string>): StoredEvent {
  const time = new Date(t.at).toISOString();
  return {
    messageId: `segment:${t.segmentId}:${t.kind}:${customerId}:${t.at}`,
    type: "track",
    event: t.kind === "entered" ? SEGMENT_ENTERED : SEGMENT_EXITED,
    properties: { segment_id: t.segmentId, segment_name: names.get(t.segmentId) ?? t.segmentId },
    timestamp: time,
    receivedAt: time,
    sourceId: "segments",
  };
}
