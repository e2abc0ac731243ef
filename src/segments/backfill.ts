/**
 * Computed traits for profiles stored before they existed and not touched since (a profile that
 * gets an event is derived by the pipeline). A job on the jobs queue pages through those
 * profiles, 100 at a time, derives their traits from all their stored events, and queues the
 * next page. Started by the daily cron when such profiles exist, or by an admin.
 *
 * Idempotent and safe alongside the pipeline: a row is written only if it is still at the version
 * read, so a concurrent batch's write is never overwritten.
 */
import { shards } from "../db/shards";
import { isNull } from "drizzle-orm";
import { database } from "../db/client";
import { customers } from "../db/schema";
import type { BackfillJob } from "../model/jobs";

export const PAGE = 100;

/** Is any profile waiting for its computed traits? (The scan stops at the first; the cron asks daily.) */
export async function backfillNeeded(env: Env): Promise<boolean> {
  const found = await shards(env).everywhere(async (d1) => ((await database(d1).select({ id: customers.id }).from(customers).where(isNull(customers.computed)).limit(1).get()) ? [true] : []));
  return found.length > 0;
}

export async function startBackfill(env: Env): Promise<void> {
  await env.JOBS.send({ v: 1, kind: "computed_backfill", after: "" } satisfies BackfillJob);
}
