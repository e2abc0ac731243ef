/** A profile's segment memberships: segment id → [member (1) or not (0), since when (ms)]. */
export type Membership = Record<string, [0 | 1, number]>;

/** The ids of the segments a profile is in now, sorted. */
export const currentSegments = (m: Membership) => Object.keys(m).filter((id) => m[id]![0] === 1).sort();
