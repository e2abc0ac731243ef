/**
 * Computed traits for profiles stored before they existed and not touched since (a profile that
 * gets an event is derived by the pipeline). A job on the jobs queue pages through those
 * profiles, 100 at a time, derives their traits from all their stored events, and queues the
 * next page. Started by the daily cron when such profiles exist, or by an admin.
 *
 * Idempotent and safe alongside the pipeline: a row is written only if it still has no computed
 * traits and is still at the version read, so a concurrent batch's write is never overwritten.
 */
import { mapLimited } from "../concurrency";
import { database } from "../db/client";
import { log } from "../log";
import { toDocument } from "../profiles/document";
import { loadProfiles, storedEventsOf } from "../profiles/store";
import { sessionStub } from "../sessions/stub";
import { applyComputed } from "./computed";

export type BackfillJob = { v: 1; kind: "computed_backfill"; after: string };

export const PAGE = 100;

export function isBackfillJob(body: unknown): body is BackfillJob {
  const j = body as BackfillJob | null;
  return typeof j === "object" && j !== null && j.v === 1 && j.kind === "computed_backfill" && typeof j.after === "string";
}

/** Is any profile waiting for its computed traits? (The scan stops at the first; the cron asks daily.) */
export async function backfillNeeded(env: Env): Promise<boolean> {
  return (await env.DB.prepare(`SELECT 1 AS x FROM customers WHERE computed IS NULL LIMIT 1`).first()) !== null;
}

export async function startBackfill(env: Env): Promise<void> {
  await env.JOBS.send({ v: 1, kind: "computed_backfill", after: "" } satisfies BackfillJob);
}

/** One page: returns how many profiles got their traits, and queues the next page. */
export async function runBackfillJob(env: Env, job: BackfillJob, now = Date.now()): Promise<number> {
  const db = database(env.DB);
  const { results } = await env.DB.prepare(`SELECT id FROM customers WHERE id > ?1 AND computed IS NULL ORDER BY id LIMIT ?2`).bind(job.after, PAGE).all<{ id: string }>();
  const ids = results.map((r) => r.id);
  const profiles = await loadProfiles(db, ids);
  const written = await mapLimited([...profiles.values()], 10, async (p) => {
    const computed = applyComputed(undefined, await storedEventsOf(db, p));
    const version = p.version + 1;
    const res = await env.DB.prepare(`UPDATE customers SET computed = ?1, version = ?2, updated_at = ?3 WHERE id = ?4 AND version = ?5 AND computed IS NULL`)
      .bind(JSON.stringify(computed), version, now, p.id, p.version)
      .run();
    if ((res.meta.changes ?? 0) === 0) return 0;
    // A served customer's snapshot shows the traits too (its session object orders the write).
    if (p.servedAt) {
      const document = toDocument(p.id, { ...p.state, computed }, p.identities, version, now);
      await sessionStub(env, p.id).ingest({ customerId: p.id, events: [], triggers: [], document, absorb: [], seed: true });
    }
    return 1;
  });
  const done = written.reduce<number>((n, x) => n + x, 0);
  if (ids.length === PAGE) await env.JOBS.send({ v: 1, kind: "computed_backfill", after: ids[ids.length - 1]! } satisfies BackfillJob);
  log("info", "computed.backfill_page", { after: job.after, profiles: ids.length, written: done, more: ids.length === PAGE });
  return done;
}
