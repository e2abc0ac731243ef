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
import { shards, type ShardMap } from "../db/shards";
import { lookupKeysOf } from "../identity/keys";
import { loadMergeBlocks } from "../identity/merge-store";
import { resolveGroups, type Refusal, type ResolvedGroup } from "../identity/resolve";
import { loadMergedAway, pendingEventMoves, type MergedAway } from "../profiles/merges";
import { type Claim, loadClaims, loadProfiles, loadSuppressed, type StoredProfile } from "../profiles/store";
import { ConcurrentWriteError } from "./retries";

/** What a commit starts from: the customers concerned, grouped with their events. */
export interface Resolved {
  /** The events left after dropping suppressed ones, and how many were dropped. */
  events: StoredEvent[];
  suppressed: number;
  groups: ResolvedGroup[];
  profiles: Map<string, StoredProfile>;
  /** Survivor id → customers merged into it whose events are still in their own objects. */
  pendingMoves: Map<string, string[]>;
  /**
   * Merges an earlier attempt left half done (db/sharded-writes.ts): customers in the merges log
   * whose survivor's row has not taken them in (their groups absorb them again, from the log's
   * copy), and the identifiers still pointing at merged-away customers, to point at their survivors.
   */
  resumed: Set<string>;
  repoints: Repoint[];
  /** Identifier key → the customer with no row that holds it (a claim an interrupted commit left), taken over by this batch. */
  takeovers: Map<string, string>;
  refusals: Refusal[];
  unattributable: StoredEvent[];
}

/** A merge whose survivor took the merged customer in, but whose identifiers may still point at it. */
export interface Repoint {
  mergedId: string;
  keys: string[];
  survivorId: string;
}

/** How old a claim on an identifier must be before a batch takes it over from a customer with no row. */
export const CLAIM_TAKEOVER_MS = 30_000;
/** Merged-away customers followed in a row (a survivor merged away too, …). */
const MAX_MERGE_HOPS = 8;

/**
 * The customers named, each a group without events (a reevaluation). A merged-away id names its
 * survivor, and a merge of it that was interrupted between shards is finished.
 */
export async function resolveCustomers(env: Env, ids: readonly string[]): Promise<Resolved> {
  const found = await findCustomers(shards(env), ids);
  const live = new Set(ids.map((id) => (found.profiles.has(id) ? id : found.survivorOf.get(id))).filter((id) => id !== undefined));
  const groups = [...live].map((customerId): ResolvedGroup => ({ customerId, isNew: false, events: [], newIdentities: [], merges: [], conflicts: [] }));
  const resumed = resumeMerges(groups, found, found.profiles);
  return { events: [], suppressed: 0, groups, profiles: found.profiles, pendingMoves: pendingOf(found.profiles), resumed, repoints: found.repoints, takeovers: new Map(), refusals: [], unattributable: [] };
}

/**
 * The events grouped by the customer they belong to after identity resolution. `onSuppressed`
 * learns, after the first read, which messageIds were dropped as an erased customer's. `minted`:
 * the ids this batch's earlier attempts gave new customers (their claims are taken over at once).
 */
export async function resolveEvents(env: Env, input: StoredEvent[], now: number, onSuppressed?: (messageIds: ReadonlySet<string>) => void, minted: Set<string> = new Set()): Promise<Resolved> {
  const config = readConfig(env);
  const map = shards(env);
  const normalize = { defaultPhoneCountry: config.defaultPhoneCountry };
  const keysByEvent = input.map((e) => lookupKeysOf(e, normalize));
  const allKeys = [...new Set(keysByEvent.flat())];
  const [claims, suppressed] = await Promise.all([loadClaims(map, allKeys), loadSuppressed(env.DB, allKeys, config.suppressionSecrets)]);
  // Events of erased customers are dropped: replays and late events must not recreate them.
  const isSuppressed = (i: number) => keysByEvent[i]!.some((k) => suppressed.has(k));
  const events = suppressed.size === 0 ? input : input.filter((_, i) => !isSuppressed(i));
  onSuppressed?.(new Set(events === input ? [] : input.filter((_, i) => isSuppressed(i)).map((e) => e.messageId)));
  // Every customer an identifier points to is read first: merge planning needs their identities.
  const found = await findCustomers(map, [...new Set([...claims.values()].map((c) => c.customerId))]);
  const { owners, takeovers } = ownersOf(claims, found, now, minted);
  const profiles = found.profiles;
  const ownerIds = [...new Set(owners.values())];
  const blocked = await loadMergeBlocks(env.DB, ownerIds);
  const identitiesByCustomer = new Map([...profiles.values()].map((p) => [p.id, p.identities]));
  // A person whose identifiers were claimed for a customer that never got its row becomes that customer.
  const mintId = (keys: readonly string[]) => {
    const id = keys.map((k) => takeovers.get(k)).find((t) => t !== undefined) ?? newId("cus", now);
    minted.add(id);
    return id;
  };
  const { groups, refusals, unattributable } = resolveGroups(events, owners, identitiesByCustomer, mintId, normalize, blocked, config.identityRules);
  const resumed = resumeMerges(groups, found, profiles);
  return { events, suppressed: input.length - events.length, groups, profiles, pendingMoves: pendingOf(profiles), resumed, repoints: found.repoints, takeovers, refusals, unattributable };
}

const pendingOf = (profiles: ReadonlyMap<string, StoredProfile>) => new Map([...profiles.values()].map((p) => [p.id, pendingEventMoves(p)] as const).filter(([, ids]) => ids.length > 0));

interface Found {
  /** Live customers by id. */
  profiles: Map<string, StoredProfile>;
  /** Merged-away id → the live customer it now belongs to. */
  survivorOf: Map<string, string>;
  /** Live survivor → merged-away customers its row has not taken in (an interrupted merge). */
  unabsorbed: Map<string, MergedAway[]>;
  repoints: Repoint[];
  /** Ids with neither a row nor a merge record. */
  missing: Set<string>;
}

/**
 * The customers these ids name, following merged-away ids (in the merges log of their shard) to
 * the live customer they belong to, however many merges away.
 */
async function findCustomers(map: ShardMap, ids: readonly string[]): Promise<Found> {
  const profiles = await loadProfiles(map, ids, { events: "summary" });
  const records = new Map<string, MergedAway>();
  let unknown = ids.filter((id) => !profiles.has(id));
  for (let hop = 0; unknown.length > 0 && hop < MAX_MERGE_HOPS; hop++) {
    const found = await loadMergedAway(map, unknown);
    for (const [id, record] of found) records.set(id, record);
    const next = [...new Set([...found.values()].map((r) => r.survivorId))].filter((id) => !profiles.has(id) && !records.has(id));
    for (const [id, p] of await loadProfiles(map, next, { events: "summary" })) profiles.set(id, p);
    unknown = next.filter((id) => !profiles.has(id));
  }
  const result: Found = { profiles, survivorOf: new Map(), unabsorbed: new Map(), repoints: [], missing: new Set(ids.filter((id) => !profiles.has(id) && !records.has(id))) };
  const liveOf = (id: string, hops = 0): string | undefined => (profiles.has(id) ? id : hops < MAX_MERGE_HOPS && records.has(id) ? liveOf(records.get(id)!.survivorId, hops + 1) : undefined);
  for (const [id, record] of records) {
    const live = liveOf(id);
    if (live === undefined) continue;
    result.survivorOf.set(id, live);
    // The survivor (live, or merged away itself) took this customer in if its row lists it.
    const direct = profiles.get(record.survivorId) ?? records.get(record.survivorId)?.profile;
    if (direct && id in direct.absorbed) result.repoints.push({ mergedId: id, keys: record.profile.identities.map((i) => i.key), survivorId: live });
    else result.unabsorbed.set(live, [...(result.unabsorbed.get(live) ?? []), record]);
  }
  return result;
}

/**
 * Identifier key → owner, with merged-away owners replaced by their survivors. A key claimed for a
 * customer that has no row (and was never merged) was left by a commit that failed after its
 * claims: once the claim is old enough, or if this batch made it, the key counts as unowned and
 * is taken over; a recent one may belong to a commit still under way, so the batch waits.
 */
function ownersOf(claims: ReadonlyMap<string, Claim>, found: Found, now: number, minted: ReadonlySet<string>): { owners: Map<string, string>; takeovers: Map<string, string> } {
  const owners = new Map<string, string>();
  const takeovers = new Map<string, string>();
  for (const [key, claim] of claims) {
    const id = claim.customerId;
    if (found.missing.has(id)) {
      if (!minted.has(id) && claim.createdAt > now - CLAIM_TAKEOVER_MS) throw new ConcurrentWriteError(`Identifier ${key} is being attached to a new customer by another consumer; rapport_version_conflict`);
      takeovers.set(key, id);
    } else owners.set(key, found.survivorOf.get(id) ?? id);
  }
  return { owners, takeovers };
}

/**
 * Customers an interrupted merge moved into the merges log without their survivor's row taking
 * them in: the group of that survivor (or of the customer absorbing it now) absorbs them again,
 * from the log's copy. Returns their ids (their merge statements skip the absorb phase).
 */
function resumeMerges(groups: ResolvedGroup[], found: Found, profiles: Map<string, StoredProfile>): Set<string> {
  const resumed = new Set<string>();
  for (const group of groups) {
    for (const id of [group.customerId, ...group.merges.map((m) => m.customerId)]) {
      for (const record of found.unabsorbed.get(id) ?? []) {
        const merged = record.profile;
        if (resumed.has(merged.id)) continue;
        resumed.add(merged.id);
        profiles.set(merged.id, merged);
        group.merges.push({ customerId: merged.id, messageId: "resumed", keys: [] });
      }
    }
  }
  return resumed;
}
