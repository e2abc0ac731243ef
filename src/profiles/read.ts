/**
 * Finding a customer for the read API: by master id, userId, `anonymous_id:…`, `email:…` or
 * `user_id:…`. The KV snapshot answers first; D1 answers when KV has nothing (new profile not yet
 * replicated to this location, or a snapshot write that is still being retried).
 */
import { database } from "../db/client";
import { parseCustomerRef } from "../identity/keys";
import { toDocument, type CustomerProfile } from "./document";
import { readIdentityOwner, readSnapshot } from "./snapshot";
import { loadIdentities, loadOwners, loadProfile } from "./store";

export async function resolveCustomerId(env: Env, ref: string): Promise<string | null> {
  const parsed = parseCustomerRef(ref);
  if ("masterId" in parsed) return parsed.masterId;
  const fromKv = await readIdentityOwner(env.PROFILES, parsed.identity.key);
  if (fromKv) return fromKv;
  const owners = await loadOwners(database(env.DB), [parsed.identity.key]);
  return owners.get(parsed.identity.key) ?? null;
}

export async function findCustomer(env: Env, ref: string): Promise<{ doc: CustomerProfile; source: "kv" | "d1" } | null> {
  const id = await resolveCustomerId(env, ref);
  if (!id) return null;
  const snapshot = await readSnapshot(env.PROFILES, id);
  if (snapshot) return { doc: snapshot, source: "kv" };
  const db = database(env.DB);
  const [profile, identities] = await Promise.all([loadProfile(db, id), loadIdentities(db, [id])]);
  if (!profile) return null;
  return { doc: toDocument(id, profile.state, identities.get(id) ?? [], profile.version, profile.updatedAt), source: "d1" };
}
