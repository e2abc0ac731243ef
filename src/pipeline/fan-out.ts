/**
 * Stage 5 of a commit: D1, the source of truth, has committed; the Durable Objects (sessions,
 * trigger timers, KV snapshots) follow, absorbed customers' snapshots are deleted, and the
 * customers written go to third-party enrichers on the jobs queue (nothing here waits for them).
 * A failure throws, the messages are retried, and the retry sends every touched customer to its
 * object again (ProcessOptions.redelivered); the objects skip what they have seen.
 */
import { mapLimited } from "../kernel/concurrency";
import { snapshotKey } from "../profiles/snapshot";
import { enrichJobs } from "../enrichment/job";
import { enrichmentRequests } from "../enrichment/request";
import type { StoredEnricher } from "../enrichment/store";
import { sessionStub } from "../sessions/contract";
import { tallyStub } from "../experiments/tally";
import type { CommitPlan } from "./plan";

/** Durable Object calls in flight at once (each customer's object is called once per batch). */
const SESSION_CALLS_IN_FLIGHT = 200;

/** Calls the objects; returns the storage rows they wrote. */
export async function fanOut(env: Env, plan: CommitPlan, enrichers: readonly StoredEnricher[], now: number): Promise<{ sessionRowsWritten: number }> {
  const written = plan.writes.map((w) => ({ customerId: w.customerId, state: w.state, identities: [...w.identities, ...w.newIdentities] }));
  const enrichment = enrichers.flatMap((e) => enrichJobs(e.id, enrichmentRequests(e, written, now)));
  const [sessionResults, notified, moved, tallied] = await Promise.all([
    mapLimited(plan.sessionCalls, SESSION_CALLS_IN_FLIGHT, (call) => sessionStub(env, call.customerId).ingest(call)),
    mapLimited(plan.notifications, SESSION_CALLS_IN_FLIGHT, (n) => sessionStub(env, n.customerId).notify(n)),
    // A merge's survivor takes in the absorbed customers' events now (its row's `absorbed` records
    // it at the survivor's next commit; until then each of its batches makes sure).
    mapLimited(plan.eventMoves, SESSION_CALLS_IN_FLIGHT, (m) => sessionStub(env, m.survivorId).store({ customerId: m.survivorId, events: [], watermark: m.watermark, absorb: m.mergedIds })),
    // Each experiment's tally object once per batch, with the records this batch changed.
    mapLimited([...plan.tallies], SESSION_CALLS_IN_FLIGHT, ([id, t]) => tallyStub(env, id).record(t.rows, t.removed)),
    Promise.all(plan.retiredSnapshots.map((id) => env.PROFILES.delete(snapshotKey(id)))),
    enrichment.length > 0 ? env.JOBS.sendBatch(enrichment.map((body) => ({ body }))) : undefined,
  ]);
  // Both kinds of call write rows (until session 15 the notifications' went uncounted).
  return { sessionRowsWritten: [...sessionResults, ...notified, ...moved, ...tallied].reduce((n, r) => n + r.rowsWritten, 0) };
}
