/**
 * Many customers at once, for ESPs that prepare a send in batches: up to 100 refs of any form
 * (master id, userId, `email:…`, `anonymous_id:…`, `phone:…`, `external:<type>:<id>`). Identifier
 * owners and snapshots come from KV in one bulk read each; only what KV does not have goes to D1,
 * one customer at a time (the same path as a single read, which starts the snapshot). Each ref is
 * answered on its own: an unknown one is a not-found in the list, not an error for the call.
 */
import { mapLimited } from "../kernel/concurrency";
import { readConfig } from "../model/config";
import { parseCustomerRef } from "../identity/keys";
import { log } from "../kernel/log";
import { findCustomer } from "./read";
import { identityKey, snapshotKey, writeIdentityOwner } from "./snapshot";
import { loadOwners } from "./store";
import { shards } from "../db/shards";

export const MAX_LOOKUP = 100;

export type LookupResult = { ref: string; found: true; customerId: string; body: string } | { ref: string; found: false };

export async function lookupCustomers(env: Env, refs: readonly string[], waitUntil: (p: Promise<unknown>) => void): Promise<LookupResult[]> {
  const normalize = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const parsed = refs.map((ref) => ({ ref, parsed: parseCustomerRef(ref, normalize) }));
  // 1. Identifier → customer: KV in one read, then D1 in one query for the rest.
  const keys = [...new Set(parsed.flatMap((p) => ("identity" in p.parsed ? [p.parsed.identity.key] : [])))];
  const owners = new Map<string, string>();
  if (keys.length > 0) {
    const fromKv = await env.PROFILES.get(keys.map(identityKey), "text");
    keys.forEach((k) => {
      const id = fromKv.get(identityKey(k));
      if (id) owners.set(k, id);
    });
    const missing = keys.filter((k) => !owners.has(k));
    if (missing.length > 0) {
      const fromD1 = await loadOwners(shards(env), missing);
      for (const [k, id] of fromD1) {
        owners.set(k, id);
        waitUntil(writeIdentityOwner(env.PROFILES, k, id).catch((err: unknown) => log("warn", "kv.identity_write_failed", { key: k, error: String(err) })));
      }
    }
  }
  const idOf = (p: (typeof parsed)[number]) => ("masterId" in p.parsed ? p.parsed.masterId : (owners.get(p.parsed.identity.key) ?? null));
  // 2. Snapshots: KV in one read.
  const ids = [...new Set(parsed.map(idOf).filter((id): id is string => id !== null))];
  const snapshots = ids.length > 0 ? await env.PROFILES.get(ids.map(snapshotKey), "text") : new Map<string, string | null>();
  // 3. What KV lacks (never served, merged away, not replicated yet): the single-read path.
  return mapLimited(parsed, 10, async (p): Promise<LookupResult> => {
    const id = idOf(p);
    if (id === null) return { ref: p.ref, found: false };
    const body = snapshots.get(snapshotKey(id));
    if (body) return { ref: p.ref, found: true, customerId: id, body };
    const found = await findCustomer(env, id, waitUntil);
    return found ? { ref: p.ref, found: true, customerId: found.id, body: found.body } : { ref: p.ref, found: false };
  });
}
