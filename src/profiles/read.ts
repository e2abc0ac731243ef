/**
 * Finding a customer for the read API: by master id, userId, `anonymous_id:…`, `email:…` or
 * `user_id:…`. KV answers first (identifier → customer, then the snapshot); D1 answers when KV
 * has nothing: the first read of a customer or of an identifier, or a snapshot not yet
 * replicated to this location. The first read starts the customer's snapshot; from then on the
 * customer's session object keeps it fresh. A profile read from D1 gets its session from there.
 */
import { readConfig } from "../config";
import { database, type Database } from "../db/client";
import { mergedInto } from "../identity/merge-store";
import { parseCustomerRef } from "../identity/keys";
import { log } from "../log";
import { toDocument } from "./document";
import { sessionStub } from "../sessions/stub";
import { readIdentityOwner, readSnapshotText, writeIdentityOwner } from "./snapshot";
import { loadOwners, loadProfile, markServed, type StoredProfile } from "./store";

/**
 * Which customer an identifier belongs to changes only when profiles merge, so each isolate
 * remembers answers for a minute: a profile read then costs one KV read instead of two.
 */
const OWNER_CACHE_MS = 60_000;
const ownerCache = new Map<string, { id: string; until: number }>();

/**
 * The master id an identifier belongs to. An identifier found in D1 (not in KV) is written to KV
 * after the response, so ingest never pays for identifiers nobody looks up.
 */
export async function resolveCustomerId(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void, now = Date.now()): Promise<string | null> {
  const parsed = parseCustomerRef(ref, { defaultPhoneCountry: readConfig(env).defaultPhoneCountry });
  if ("masterId" in parsed) return parsed.masterId;
  const { key } = parsed.identity;
  const cached = ownerCache.get(key);
  if (cached && cached.until > now) return cached.id;
  let id = await readIdentityOwner(env.PROFILES, key);
  if (!id) {
    id = (await loadOwners(database(env.DB), [key])).get(key) ?? null;
    if (id && waitUntil) {
      waitUntil(writeIdentityOwner(env.PROFILES, key, id).catch((err: unknown) => log("warn", "kv.identity_write_failed", { key, error: String(err) })));
    }
  }
  if (id) {
    if (ownerCache.size > 50_000) ownerCache.clear();
    ownerCache.set(key, { id, until: now + OWNER_CACHE_MS });
  }
  return id;
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
  const first = await resolveCustomerId(env, ref, waitUntil);
  if (!first) return null;
  let id: string = first;
  const db = database(env.DB);
  for (let hop = 0; ; hop++) {
    const snapshot = await readSnapshotText(env.PROFILES, id);
    if (snapshot) return { id, version: snapshot.version, body: snapshot.body, source: "kv" };
    const profile = await loadProfile(db, id);
    if (profile) return fromD1(env, db, profile, waitUntil);
    // A merged-away customer: answer with the survivor.
    const survivor: string | null = hop < MAX_MERGE_HOPS ? await mergedInto(db, id) : null;
    if (!survivor) return null;
    id = survivor;
  }
}

/** The master id a ref names, following merges: what the events and export endpoints use. */
export async function resolveCurrentCustomerId(env: Env, ref: string, waitUntil?: (p: Promise<unknown>) => void): Promise<string | null> {
  let id = await resolveCustomerId(env, ref, waitUntil);
  const db = database(env.DB);
  for (let hop = 0; id && hop < MAX_MERGE_HOPS; hop++) {
    if (await loadProfile(db, id)) return id;
    id = await mergedInto(db, id);
  }
  return null;
}

async function fromD1(env: Env, db: Database, loaded: StoredProfile, waitUntil?: (p: Promise<unknown>) => void): Promise<FoundCustomer> {
  const id = loaded.id;
  let profile = loaded;
  // The first read marks the customer served and writes its first snapshot; from then on the
  // pipeline keeps the snapshot fresh. Later KV misses (a location not yet replicated) are
  // answered from D1 without writing, so a burst of reads cannot hit KV's one-write-per-second.
  const marked = profile.servedAt === null && waitUntil ? await markServed(db, id) : null;
  if (marked) profile = marked;
  const doc = toDocument(id, profile.state, profile.identities, profile.version, profile.updatedAt, profile.segments, profile.scores);
  // The session lives in the customer's session object, which also writes the first snapshot
  // (it orders snapshot writes by version against the pipeline's).
  const stub = sessionStub(env, id);
  const session = marked ? await stub.publish(doc) : await stub.view();
  return { id, version: profile.version, body: JSON.stringify({ ...doc, session }), source: "d1" };
}
