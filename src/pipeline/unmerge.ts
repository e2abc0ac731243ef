/**
 * Undoing a merge. The merged-away customer comes back with its own identifiers (those still on
 * the survivor) and both profiles are derived again from their stored events: an event goes back
 * to the restored customer when it carries only its identifiers; an event that carries
 * identifiers of both (the one that linked them) stays with the survivor. The pair is then
 * blocked, so that the next such event does not merge them again (the refusal is recorded).
 *
 * Derived from stored events only: what events past the retention period had contributed to the
 * survivor's counters is not split (it stays with the survivor).
 *
 * The events themselves move between the customers' objects: the restored customer's object gets
 * its events (as applied) before D1 commits, and the survivor's lets them go after. A failure in
 * between leaves a copy in the restored object (taken again by a repeated unmerge: none is stored
 * twice) or the events in both (the survivor's history shows them; its profile does not count them).
 */
import { refuseDuringMove } from "../db/slot-moves";
import { eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { mergeBlocks, merges } from "../db/schema";
import { ShardedWrites } from "../db/sharded-writes";
import { shards } from "../db/shards";
import { reevaluateCustomers } from "./process";
import { readConfig } from "../model/config";
import type { StoredEvent } from "../model/events";
import { log } from "../kernel/log";
import { applyEvents, emptyProfile } from "../profiles/apply";
import { toDocument } from "../profiles/document";
import { identityKey, snapshotKey } from "../profiles/snapshot";
import { sessionStub } from "../sessions/contract";
import { loadProfile, type ProfileWrite, profileStatements } from "../profiles/store";
import { profileOfRecord } from "../profiles/merges";
import { customerEvents } from "../profiles/events";
import { moveRowEvents } from "./store-events";
import { identitiesOf } from "../identity/keys";
import { pairKey } from "../identity/resolve";

export interface Unmerge {
  survivorId: string;
  restoredId: string;
  survivorEvents: number;
  restoredEvents: number;
  restoredIdentities: string[];
}

export class UnmergeConflict extends Error {
  override name = "UnmergeConflict";
}

export async function unmerge(env: Env, mergedId: string, now = Date.now()): Promise<Unmerge | null> {
  await refuseDuringMove(env);
  const map = shards(env);
  const db = database(map.of(mergedId));
  const record = await db.select({ survivorId: merges.survivorId, mergedProfile: merges.mergedProfile }).from(merges).where(eq(merges.mergedId, mergedId)).get();
  if (!record) return null;
  const survivor = await loadProfile(map, record.survivorId);
  if (!survivor) throw new UnmergeConflict(`The survivor ${record.survivorId} no longer exists`);
  const before = profileOfRecord(record.mergedProfile);
  const restoredKeys = new Set(before.identities.map((i) => i.key));
  const restoredIdentities = survivor.identities.filter((i) => restoredKeys.has(i.key));
  const survivorIdentities = survivor.identities.filter((i) => !restoredKeys.has(i.key));
  const survivorKeys = new Set(survivorIdentities.map((i) => i.key));

  const normalize = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const survivorHeld = survivor.eventSeq === null;
  await moveRowEvents(env, survivor);
  const events = await customerEvents(env, survivor);
  const toRestored: StoredEvent[] = [];
  const toSurvivor: StoredEvent[] = [];
  for (const e of events) {
    const keys = identitiesOf(e, normalize).map((i) => i.key);
    const theirs = keys.some((k) => restoredKeys.has(k));
    const ours = keys.some((k) => survivorKeys.has(k));
    (theirs && !ours ? toRestored : toSurvivor).push(e);
  }

  const survivorState = applyEvents(emptyProfile(), toSurvivor, normalize);
  const restoredState = applyEvents(emptyProfile(), toRestored, normalize);
  // The restored customer's events into its object first (as applied: its state is derived from them).
  const restored = await sessionStub(env, before.id).store({ customerId: before.id, events: [], watermark: 0, imports: [{ events: toRestored, counted: true }] });
  const survivorSeq = (await sessionStub(env, survivor.id).store({ customerId: survivor.id, events: [], watermark: survivor.eventSeq ?? 0 })).seq;
  const { [before.id]: _restored, ...absorbed } = survivor.absorbed;
  const survivorWrite: ProfileWrite = { customerId: survivor.id, previousVersion: survivor.version, state: survivorState, identities: survivorIdentities, newIdentities: [], eventSeq: survivorSeq, absorbed, rowHeldEvents: survivorHeld, segments: survivor.segments, scores: null, servedAt: survivor.servedAt, sessionAt: survivor.sessionAt, createdAt: survivor.createdAt, now };
  const restoredWrite: ProfileWrite = { customerId: before.id, previousVersion: null, state: restoredState, identities: restoredIdentities, newIdentities: [], eventSeq: restored.seq, absorbed: before.absorbed, rowHeldEvents: false, segments: {}, scores: null, servedAt: before.servedAt, sessionAt: before.sessionAt ?? null, createdAt: before.createdAt, now };
  const writes = [survivorWrite, restoredWrite];
  // Across shards, in an order a failure can be retried from: the pair blocked first (no batch
  // merges them again meanwhile), the survivor without the restored customer, then the restored
  // customer's row with its merge record deleted (one transaction: a repeated unmerge finds the
  // record while the row is not back), then its identifiers.
  const survivorShard = map.of(survivor.id);
  const restoredShard = map.of(before.id);
  const batch = new ShardedWrites(now)
    .add("claim", env.DB, [database(env.DB).insert(mergeBlocks).values({ pair: pairKey(survivor.id, before.id), createdAt: now }).onConflictDoNothing({ target: mergeBlocks.pair })])
    .add("absorb", survivorShard, profileStatements(survivorShard, [survivorWrite]))
    .add("write", restoredShard, [database(restoredShard).delete(merges).where(eq(merges.mergedId, before.id)), ...profileStatements(restoredShard, [restoredWrite])]);
  for (const [d1, keys] of map.group([...restoredKeys], (k) => k)) {
    batch.add("repoint", d1, [database(d1).run(sql`UPDATE identities SET customer_id = ${before.id} WHERE customer_id = ${survivor.id} AND key IN (SELECT value FROM json_each(${JSON.stringify(keys)}))`)]);
  }
  await batch.run();

  // KV: both snapshots as they are now (if served, written by their session objects), and no
  // identifier entry pointing the wrong way. The restored customer's session is re-derived from
  // its events (its timers are not: they went to the survivor at the merge and stay there).
  const kv: Promise<unknown>[] = restoredIdentities.map((i) => env.PROFILES.delete(identityKey(i.key)));
  for (const w of writes) {
    const version = (w.previousVersion ?? 0) + 1;
    const document = w.servedAt ? toDocument(w.customerId, w.state, w.identities, version, now, w.segments) : null;
    if (!document) kv.push(env.PROFILES.delete(snapshotKey(w.customerId)));
    // The restored customer's object was emptied at the merge: it starts again from its events.
    if (w.sessionAt !== null || w.servedAt !== null) kv.push(sessionStub(env, w.customerId).ingest({ customerId: w.customerId, events: [], triggers: [], document, absorb: [], seed: true }));
  }
  kv.push(sessionStub(env, survivor.id).forgetEvents(toRestored.map((e) => e.messageId)));
  await Promise.all(kv);
  // Both profiles changed: their segments are evaluated again (the restored one's from scratch).
  await reevaluateCustomers(env, [survivor.id, before.id], { now });
  log("info", "identity.unmerged", { survivorId: survivor.id, restoredId: before.id, survivorEvents: toSurvivor.length, restoredEvents: toRestored.length });
  return { survivorId: survivor.id, restoredId: before.id, survivorEvents: toSurvivor.length, restoredEvents: toRestored.length, restoredIdentities: restoredIdentities.map((i) => i.key) };
}
