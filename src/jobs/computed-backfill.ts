/**
 * The computed-traits backfill, a page of profiles per job: profiles stored before a computed
 * trait existed get it through the pipeline's reevaluate(), with no new event. Started by
 * segments/backfill.ts (the daily cron, or an admin).
 */
import { shards } from "../db/shards";
import { and, gt, isNull } from "drizzle-orm";
import { database } from "../db/client";
import { customers } from "../db/schema";
import { log } from "../kernel/log";
import type { BackfillJob } from "../model/jobs";
import { reevaluateCustomers } from "../pipeline/process";
import { PAGE } from "../segments/backfill";

/** One page: returns how many profiles got their traits, and queues the next page. */
export async function runBackfillJob(env: Env, job: BackfillJob, now = Date.now()): Promise<number> {
  const results = await shards(env).page(PAGE, (d1) => database(d1).select({ id: customers.id }).from(customers).where(and(gt(customers.id, job.after), isNull(customers.computed))).orderBy(customers.id).limit(PAGE).all(), (r) => r.id);
  const ids = results.map((r) => r.id);
  // The pipeline's own path with no new event: derives what the profiles lack, evaluates their
  // segments, writes each at the version read (a concurrent batch wins and is re-read), and
  // refreshes served customers' snapshots through their session objects.
  const stats = await reevaluateCustomers(env, ids, { now });
  if (ids.length === PAGE) await env.JOBS.send({ v: 1, kind: "computed_backfill", after: ids[ids.length - 1]! } satisfies BackfillJob);
  log("info", "computed.backfill_page", { after: job.after, profiles: ids.length, written: stats.customersChanged, more: ids.length === PAGE });
  return stats.customersChanged;
}
