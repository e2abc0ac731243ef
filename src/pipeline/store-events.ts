/**
 * Stage 2 of a commit: each customer's events go to its Durable Object before anything is
 * applied (sessions/event-store.ts, docs/scaling.md). The object keeps the events it has not
 * seen as one chunk and answers those its profile has not applied yet: the apply stage applies
 * exactly these, and the commit records the object's new watermark with the profile. A crash
 * anywhere after this stage leaves the events stored and unapplied; the next attempt is answered
 * them again. So every event reaches the profile once, without dedupe marks in D1.
 *
 * Also here, before the objects deduplicate anything:
 * - a row that still holds its events (stored before they moved into the objects) hands them to
 *   its object, as applied; the commit empties the row;
 * - a customer absorbed in this batch is asked which of the batch's events it has applied (a
 *   redelivered event of the absorbed customer is not new to the merged profile);
 * - a survivor takes in the events of customers merged into it earlier whose objects still hold
 *   them (its row's `absorbed`), and the commit records the move there.
 */
import { mapLimited } from "../kernel/concurrency";
import type { StoredEvent } from "../model/events";
import { rowHeldEvents, type StoredProfile } from "../profiles/store";
import { shards } from "../db/shards";
import { sessionStub } from "../sessions/contract";
import type { Resolved } from "./resolve";

/** Durable Object calls in flight at once. */
const CALLS_IN_FLIGHT = 200;

export interface StoredBatch {
  /** Per customer: the events its profile applies now (duplicates left out, earlier unapplied ones in). */
  fresh: Map<string, StoredEvent[]>;
  /** Per customer: its object's watermark once the profile has applied `fresh`. */
  seq: Map<string, number>;
  /** Per survivor: the merged-away customers whose events its object took in here. */
  moved: Map<string, string[]>;
  calls: number;
  rowsWritten: number;
}

/**
 * A row that still holds its events hands them to its object, as applied; the profile records
 * the object's watermark (`eventSeq`, set here on the loaded profile). Nothing for a row whose
 * events moved already.
 */
export async function moveRowEvents(env: Env, profile: StoredProfile): Promise<{ seq: number; rowsWritten: number }> {
  if (profile.eventSeq !== null) return { seq: profile.eventSeq, rowsWritten: 0 };
  const events = await rowHeldEvents(shards(env), profile);
  const moved = await sessionStub(env, profile.id).store({ customerId: profile.id, events: [], watermark: 0, imports: [{ events, counted: true }] });
  profile.eventSeq = moved.seq;
  return moved;
}

export async function storeEvents(env: Env, resolved: Pick<Resolved, "groups" | "profiles" | "pendingMoves">, now = Date.now()): Promise<StoredBatch> {
  const batch: StoredBatch = { fresh: new Map(), seq: new Map(), moved: new Map(), calls: 0, rowsWritten: 0 };
  const held = async (p: StoredProfile | undefined) => (p && p.eventSeq === null ? [{ events: await rowHeldEvents(shards(env), p), counted: true }] : undefined);
  await mapLimited(
    resolved.groups.filter((g) => g.events.length > 0 || resolved.pendingMoves.has(g.customerId) || resolved.profiles.get(g.customerId)?.eventSeq === null),
    CALLS_IN_FLIGHT,
    async (group) => {
      const survivor = resolved.profiles.get(group.customerId);
      const absorbed = group.merges.map((m) => resolved.profiles.get(m.customerId)).filter((p): p is StoredProfile => p !== undefined);
      // Absorbed rows that still hold events move them into their own objects first, so that
      // every customer's marks are in its object when the survivor asks.
      for (const p of absorbed.filter((a) => a.eventSeq === null)) {
        const moved = await moveRowEvents(env, p);
        batch.calls++;
        batch.rowsWritten += moved.rowsWritten;
      }
      const imports = await held(survivor);
      const absorb = resolved.pendingMoves.get(group.customerId) ?? [];
      const result = await sessionStub(env, group.customerId).store({
        customerId: group.customerId,
        events: group.events,
        watermark: survivor?.eventSeq ?? 0,
        now,
        ...(imports ? { imports } : {}),
        ...(absorb.length > 0 ? { absorb } : {}),
        ...(absorbed.length > 0 ? { appliedBy: absorbed.map((p) => ({ customerId: p.id, watermark: p.eventSeq ?? 0 })) } : {}),
      });
      batch.calls++;
      batch.rowsWritten += result.rowsWritten;
      batch.fresh.set(group.customerId, JSON.parse(result.freshJson) as StoredEvent[]);
      batch.seq.set(group.customerId, result.seq);
      if (absorb.length > 0) batch.moved.set(group.customerId, absorb);
    },
  );
  return batch;
}
