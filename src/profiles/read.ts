/**
 * Finding a customer for the read API: by master id, userId, `anonymous_id:…`, `email:…` or
 * `user_id:…`. KV answers first (identifier → customer, then the snapshot); D1 answers when KV
 * has nothing: the first read of a customer or of an identifier, or a snapshot not yet
 * replicated to this location. The first read starts the customer's snapshot; from then on the
 * customer's session object keeps it fresh. A profile read from D1 gets its session from there.
 */
import { loadPopulationCurve } from "./population-curve";
import { readConfig } from "../model/config";
import { mergedInto } from "./merges";
import { type ShardMap, shards } from "../db/shards";
import { parseCustomerRef } from "../identity/keys";
import type { Identity } from "../model/identity";
import { log } from "../kernel/log";
import { IDENTITY_LISTS, listedIdentity, toDocument } from "./document";
import { sessionStub } from "../sessions/contract";
import { readIdentityOwner, readSnapshotText, writeIdentityOwner } from "./snapshot";
import { loadOwners, loadProfile, markServed, type StoredProfile } from "./store";

/**
 * Which customer an identifier belongs to changes only when profiles merge or are unmerged, so
 * each isolate remembers answers: a profile read then costs one KV read (the snapshot) instead
 * of two. A remembered answer is checked against what it finds: the customer's document must
 * still list the identifier (see servedIdentity), or the answer is forgotten and looked up again.
 * A merge or an erasure needs no check: a merged-away customer leads to its survivor, an erased
 * one to nothing.
 */
const OWNER_CACHE_MS = 60 * 60_000;
const OWNER_CACHE_MAX = 50_000;
const ownerCache = new Map<string, { id: string; until: number }>();

/**
 * The master id an identifier belongs to. An identifier found in D1 (not in KV) is written to KV
 * after the response, so ingest never pays for identifiers nobody looks up.
 */
export async function resolveCustomerId(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void, now = Date.now()): Promise<string | null> {
  return (await resolveOwner(env, ref, waitUntil, now))?.id ?? null;
}

interface Owner {
  id: string;
  /** The identifier asked for (none for a master id). */
  identity: Identity | null;
  /** Remembered by this isolate, not read now. */
  remembered: boolean;
}

async function resolveOwner(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void, now = Date.now()): Promise<Owner | null> {
  const parsed = parseCustomerRef(ref, { defaultPhoneCountry: readConfig(env).defaultPhoneCountry });
  if ("masterId" in parsed) return { id: parsed.masterId, identity: null, remembered: false };
  const { identity } = parsed;
  const cached = ownerCache.get(identity.key);
  if (cached && cached.until > now) return { id: cached.id, identity, remembered: true };
  let id = await readIdentityOwner(env.PROFILES, identity.key);
  if (!id) {
    id = (await loadOwners(shards(env), [identity.key])).get(identity.key) ?? null;
    if (id && waitUntil) {
      waitUntil(writeIdentityOwner(env.PROFILES, identity.key, id).catch((err: unknown) => log("warn", "kv.identity_write_failed", { key: identity.key, error: String(err) })));
    }
  }
  if (!id) return null;
  if (ownerCache.size >= OWNER_CACHE_MAX) ownerCache.clear();
  ownerCache.set(identity.key, { id, until: now + OWNER_CACHE_MS });
  return { id, identity, remembered: false };
}

/** Forgets cached owners of these identity keys (after an erasure). */
export function forgetOwners(keys: readonly string[]): void {
  for (const key of keys) ownerCache.delete(key);
}

export interface FoundCustomer {
  id: string;
  version: number;
  /** The profile document, serialized: served as is from KV. */
  body: string;
  source: "kv" | "d1";
}

/** How many merges a lookup follows (a merged-away id points at its survivor). */
const MAX_MERGE_HOPS = 5;

export async function findCustomer(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void): Promise<FoundCustomer | null> {
  const owner = await resolveOwner(env, ref, waitUntil);
  if (!owner) return null;
  const found = await findById(env, owner.id, waitUntil);
  // A remembered owner that no longer lists the identifier (an unmerge gave it to another
  // customer): forgotten, and looked up again.
  if (owner.remembered && owner.identity && !(found && servedIdentity(found.body, owner.identity))) {
    ownerCache.delete(owner.identity.key);
    return findCustomer(env, ref, waitUntil);
  }
  return found;
}

async function findById(env: Env, first: string, waitUntil?: (p: Promise<unknown>) => void): Promise<FoundCustomer | null> {
  let id = first;
  const d1 = shards(env);
  for (let hop = 0; ; hop++) {
    const snapshot = await readSnapshotText(env.PROFILES, id);
    if (snapshot) return { id, version: snapshot.version, body: snapshot.body, source: "kv" };
    const profile = await loadProfile(d1, id);
    if (profile) return fromD1(env, d1, profile, waitUntil);
    // A merged-away customer: answer with the survivor.
    const survivor: string | null = hop < MAX_MERGE_HOPS ? await mergedInto(d1, id) : null;
    if (!survivor) return null;
    id = survivor;
  }
}

/**
 * Whether a served document lists this identifier, read from its text (the hot path serves the
 * stored text without parsing it): the identifier's JSON within its kind's list. Documents are
 * written by toDocument, so `identities` and the lists come in its order, and a list ends at the
 * first `]` after it (a `]` inside an identifier only makes the check fail, and the owner is read
 * again).
 */
export function servedIdentity(body: string, identity: Identity): boolean {
  const section = body.indexOf('"identities":{');
  const list = section === -1 ? -1 : body.indexOf(`"${IDENTITY_LISTS[identity.kind]}":[`, section);
  if (list === -1) return false;
  const end = body.indexOf("]", list);
  const at = body.indexOf(JSON.stringify(listedIdentity(identity)), list);
  return at !== -1 && at < end;
}

/** The master id a ref names, following merges: what the events and export endpoints use. */
export async function resolveCurrentCustomerId(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void): Promise<string | null> {
  const owner = await resolveOwner(env, ref, waitUntil);
  if (!owner) return null;
  const d1 = shards(env);
  let id: string | null = owner.id;
  let profile: StoredProfile | null = null;
  for (let hop = 0; id && hop <= MAX_MERGE_HOPS; hop++) {
    profile = await loadProfile(d1, id);
    if (profile) break;
    id = hop < MAX_MERGE_HOPS ? await mergedInto(d1, id) : null;
  }
  // As in findCustomer: a remembered owner must still hold the identifier (erasure acts on this).
  if (owner.remembered && owner.identity && !profile?.identities.some((i) => i.key === owner.identity!.key)) {
    ownerCache.delete(owner.identity.key);
    return resolveCurrentCustomerId(env, ref, waitUntil);
  }
  return profile ? profile.id : null;
}

async function fromD1(env: Env, d1: ShardMap, loaded: StoredProfile, waitUntil?: (p: Promise<unknown>) => void): Promise<FoundCustomer> {
  const id = loaded.id;
  let profile = loaded;
  // The first read marks the customer served and writes its first snapshot; from then on the
  // pipeline keeps the snapshot fresh. Later KV misses (a location not yet replicated) are
  // answered from D1 without writing, so a burst of reads cannot hit KV's one-write-per-second.
  const marked = profile.servedAt === null && waitUntil ? await markServed(d1, id) : null;
  if (marked) profile = marked;
  await loadPopulationCurve(env.PROFILES);
  const doc = toDocument(id, profile.state, profile.identities, profile.version, profile.updatedAt, profile.segments, profile.scores);
  // The session lives in the customer's session object, which also writes the first snapshot
  // (it orders snapshot writes by version against the pipeline's).
  const stub = sessionStub(env, id);
  const session = marked ? await stub.publish(doc) : await stub.view();
  return { id, version: profile.version, body: JSON.stringify({ ...doc, session }), source: "d1" };
}
