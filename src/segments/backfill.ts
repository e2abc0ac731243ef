/**
 * Computed traits for profiles stored before they existed and not touched since (a profile that
 * gets an event is derived by the pipeline). A job on the jobs queue pages through those
 * profiles, 100 at a time, derives their traits from all their stored events, and queues the
 * next page. Started by the daily cron when such profiles exist, or by an admin.
 *
 * Idempotent and safe alongside the pipeline: a row is written only if it is still at the version
 * read, so a concurrent batch's write is never overwritten.
 */
import { log } from "../kernel/log";
import { reevaluateCustomers } from "../pipeline/process";
import type { BackfillJob } from "../model/jobs";

export const PAGE = 100;

/** Is any profile waiting for its computed traits? (The scan stops at the first; the cron asks daily.) */
export async function backfillNeeded(env: Env): Promise<boolean> {
  return (await env.DB.prepare(`SELECT 1 AS x FROM customers WHERE computed IS NULL LIMIT 1`).first()) !== null;
}

export async function startBackfill(env: Env): Promise<void> {
  await env.JOBS.send({ v: 1, kind: "computed_backfill", after: "" } satisfies BackfillJob);
}

/** One page: returns how many profiles got their traits, and queues the next page. */
export async function runBackfillJob(env: Env, job: BackfillJob, now = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(`SELECT id FROM customers WHERE id > ?1 AND computed IS NULL ORDER BY id LIMIT ?2`).bind(job.after, PAGE).all<{ id: string }>();
  const ids = results.map((r) => r.id);
  // The pipeline's own path with no new event: derives what the profiles lack, evaluates their
  // segments, writes each at the version read (a concurrent batch wins and is re-read), and
  // refreshes served customers' snapshots through their session objects.
  const stats = await reevaluateCustomers(env, ids, { now });
  if (ids.length === PAGE) await env.JOBS.send({ v: 1, kind: "computed_backfill", after: ids[ids.length - 1]! } satisfies BackfillJob);
  log("info", "computed.backfill_page", { after: job.after, profiles: ids.length, written: stats.customersChanged, more: ids.length === PAGE });
  return stats.customersChanged;
}
