/**
 * Merging two given customers outside the event pipeline: what an admin decision or the
 * duplicate scan does. The same rules (identifier limits, unmerged pairs) and the same
 * statements as pipeline merges, in one D1 transaction.
 */
import { refuseDuringMove } from "../db/slot-moves";
import { ShardedWrites } from "../db/sharded-writes";
import { shards } from "../db/shards";
import { reevaluateCustomers } from "./process";
import { readConfig } from "../model/config";
import { log } from "../kernel/log";
import { combine } from "../profiles/merge";
import { toDocument } from "../profiles/document";
import { snapshotKey } from "../profiles/snapshot";
import { sessionStub } from "../sessions/contract";
import { loadProfiles, type ProfileWrite, profileStatements, type StoredProfile } from "../profiles/store";
import { loadMergeBlocks } from "../identity/merge-store";
import { addMergeStatements } from "./merge-statements";
import { moveRowEvents } from "./store-events";
import { pairKey } from "../identity/resolve";
import { bestRank, brokenLimit } from "../model/identity-rules";

export type MergeOutcome = { merged: true; survivorId: string; mergedId: string } | { merged: false; reason: string };

export async function mergeCustomers(env: Env, ids: [string, string], cause: { reason: string; score?: number }, now = Date.now()): Promise<MergeOutcome> {
  await refuseDuringMove(env);
  const map = shards(env);
  const [profiles, blocked] = await Promise.all([loadProfiles(map, ids), loadMergeBlocks(env.DB, ids)]);
  const [a, b] = ids.map((id) => profiles.get(id));
  if (!a || !b) return { merged: false, reason: "not_found" };
  if (blocked.has(pairKey(a.id, b.id))) return { merged: false, reason: "unmerged" };
  const rules = readConfig(env).identityRules;
  const broken = brokenLimit(rules, [...a.identities, ...b.identities]);
  if (broken) return { merged: false, reason: `limit:${broken}` };
  const rank = (p: StoredProfile) => bestRank(rules, p.identities);
  const [survivor, merged] = [a, b].sort((x, y) => rank(x) - rank(y) || x.id.localeCompare(y.id)) as [StoredProfile, StoredProfile];
  const base = combine(survivor, [merged]);
  // Both customers' events into their own objects first (rows that still hold them), so that the
  // survivor's object can take in the merged customer's once D1 has committed.
  const survivorHeld = survivor.eventSeq === null;
  const { seq } = await moveRowEvents(env, survivor);
  await moveRowEvents(env, merged);
  const absorbed = { ...survivor.absorbed, ...merged.absorbed, [merged.id]: 0 };
  const write: ProfileWrite = { customerId: survivor.id, previousVersion: survivor.version, state: base.state, identities: base.identities, newIdentities: [], eventSeq: seq, absorbed, rowHeldEvents: survivorHeld, segments: survivor.segments, scores: survivor.scores, servedAt: base.servedAt, sessionAt: base.sessionAt, createdAt: survivor.createdAt, now };
  const writes = new ShardedWrites(now);
  addMergeStatements(writes, map, env.DB, [{ survivorId: survivor.id, merged, cause: { messageId: `duplicate:${cause.reason}`, keys: [] }, now }]);
  writes.add("write", map.of(survivor.id), profileStatements(map.of(survivor.id), [write]));
  let partial = false;
  try {
    await writes.run(() => {
      partial = true;
    });
  } catch (err) {
    // The merged customer is in the merges log but the survivor's row did not take it in (a
    // concurrent write to it): the pipeline's reevaluation of the merged id finishes the merge.
    if (!partial) throw err;
    await reevaluateCustomers(env, [merged.id], { now });
  }
  // The merged customer's events join the survivor's (until this succeeds, the merge record says so
  // and the survivor's next batch takes them in).
  await sessionStub(env, survivor.id).store({ customerId: survivor.id, events: [], watermark: seq, absorb: [merged.id] });
  // The survivor's session object takes over the merged one's session and timers, and writes
  // the survivor's snapshot if it has one.
  const document = base.servedAt ? toDocument(survivor.id, base.state, base.identities, survivor.version + 1, now, survivor.segments, survivor.scores) : null;
  const needsSession = base.sessionAt !== null || base.servedAt !== null;
  await Promise.all([
    env.PROFILES.delete(snapshotKey(merged.id)),
    needsSession && sessionStub(env, survivor.id).ingest({ customerId: survivor.id, events: [], triggers: [], document, absorb: merged.sessionAt !== null ? [merged.id] : [], seed: true }),
  ]);
  // The combined profile may belong to other segments than the survivor did.
  await reevaluateCustomers(env, [survivor.id], { now });
  log("info", "identity.merged", { survivorId: survivor.id, mergedId: merged.id, ...cause });
  return { merged: true, survivorId: survivor.id, mergedId: merged.id };
}
