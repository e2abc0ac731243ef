/**
 * Stage 1 of a commit: read what the batch concerns. For events, the customers their identifiers
 * point to (with their identities and merge blocks, and the merged-away customers whose events
 * their objects must still take in), dropping events of erased customers, and the grouping
 * identity resolution makes of them. For a reevaluation, the customers named, with no events.
 * Which events are already stored, the customers' objects answer (stage 2, store.ts).
 */
import { readConfig } from "../model/config";
import type { StoredEvent } from "../model/events";
import { newId } from "../kernel/crypto";
import { lookupKeysOf } from "../identity/keys";
import { loadMergeBlocks, loadPendingEventMoves } from "../identity/merge-store";
import { resolveGroups, type Refusal, type ResolvedGroup } from "../identity/resolve";
import { loadOwners, loadProfiles, loadSuppressed, type StoredProfile } from "../profiles/store";

/** What a commit starts from: the customers concerned, grouped with their events. */
export interface Resolved {
  /** The events left after dropping suppressed ones, and how many were dropped. */
  events: StoredEvent[];
  suppressed: number;
  groups: ResolvedGroup[];
  profiles: Map<string, StoredProfile>;
  /** Survivor id → customers merged into it whose events are still in their own objects. */
  pendingMoves: Map<string, string[]>;
  refusals: Refusal[];
  unattributable: StoredEvent[];
}

/** The customers named, each a group without events (a reevaluation). */
export async function resolveCustomers(d1: D1Database, ids: readonly string[]): Promise<Resolved> {
  const profiles = await loadProfiles(d1, ids, { events: "summary" });
  const groups = [...profiles.keys()].map((customerId): ResolvedGroup => ({ customerId, isNew: false, events: [], newIdentities: [], merges: [], conflicts: [] }));
  return { events: [], suppressed: 0, groups, profiles, pendingMoves: new Map(), refusals: [], unattributable: [] };
}

/**
 * The events grouped by the customer they belong to after identity resolution. `onSuppressed`
 * learns, after the first read, which messageIds were dropped as an erased customer's.
 */
export async function resolveEvents(env: Env, input: StoredEvent[], now: number, onSuppressed?: (messageIds: ReadonlySet<string>) => void): Promise<Resolved> {
  const config = readConfig(env);
  const d1 = env.DB;
  const normalize = { defaultPhoneCountry: config.defaultPhoneCountry };
  const keysByEvent = input.map((e) => lookupKeysOf(e, normalize));
  const allKeys = [...new Set(keysByEvent.flat())];
  const [owners, suppressed] = await Promise.all([loadOwners(d1, allKeys), loadSuppressed(d1, allKeys, config.suppressionSecrets)]);
  // Events of erased customers are dropped: replays and late events must not recreate them.
  const isSuppressed = (i: number) => keysByEvent[i]!.some((k) => suppressed.has(k));
  const events = suppressed.size === 0 ? input : input.filter((_, i) => !isSuppressed(i));
  onSuppressed?.(new Set(events === input ? [] : input.filter((_, i) => isSuppressed(i)).map((e) => e.messageId)));
  // Every customer an identifier points to is read first: merge planning needs their identities.
  const ownerIds = [...new Set(owners.values())];
  const [profiles, blocked, pendingMoves] = await Promise.all([loadProfiles(d1, ownerIds, { events: "summary" }), loadMergeBlocks(d1, ownerIds), loadPendingEventMoves(d1, ownerIds)]);
  const identitiesByCustomer = new Map([...profiles.values()].map((p) => [p.id, p.identities]));
  const { groups, refusals, unattributable } = resolveGroups(events, owners, identitiesByCustomer, () => newId("cus", now), normalize, blocked, config.identityRules);
  return { events, suppressed: input.length - events.length, groups, profiles, pendingMoves, refusals, unattributable };
}
