/**
 * Erasure reaches the raw archive: after a customer is erased, a scrub reads every archived
 * object received since the customer's first event and rewrites those holding events with one of
 * the customer's identifiers without them (or deletes an object left empty).
 *
 * The scrub's progress is a D1 row (`archive_scrubs`): a chain of jobs on the jobs queue each
 * takes the page of objects the row points at, then moves the row on and sends the next job.
 * Only the scrub's id travels on the queue. The row moves only from where the job found it, so a
 * retried or duplicated job scrubs its page again (finding nothing left) without moving anything
 * twice. If the chain breaks (a lost message, a restart of the local runtime), the daily cron
 * resumes every scrub that has not moved for SCRUB_STALL_MS. A scrub is finished when its
 * `finishedAt` is set: every object of every day was read. Its identifiers are then cleared.
 */
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { archiveScrubs } from "../db/schema";
import { newId } from "../kernel/crypto";
import { readConfig } from "../model/config";
import { eventJson } from "../model/event-json";
import { lookupKeysOf } from "../identity/keys";
import { log } from "../kernel/log";
import { dayPrefix, gunzipLines, gzip } from "./writer";
import type { LegacyScrubJob, ScrubJob } from "../model/jobs";

const OBJECTS_PER_JOB = 20;
const DAY_MS = 86_400_000;
/** A running scrub that has not moved for this long is taken up again by the daily cron. */
export const SCRUB_STALL_MS = 15 * 60_000;
const DONE = "\u0000done";

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const nextDay = (day: string) => dayOf(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
const jobOf = (scrubId: string): ScrubJob => ({ v: 2, kind: "archive_scrub", scrubId });

export interface Scrub {
  id: string;
  customerId: string;
  from: string;
  to: string;
  day: string;
  objects: number;
  rewritten: number;
  deleted: number;
  removed: number;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** Starts the scrub of an erased customer's events, from the day before `since` to today. */
export async function startScrub(env: Env, customerId: string, keys: readonly string[], since: number, now = Date.now()): Promise<{ id: string; from: string; to: string }> {
  const id = newId("scr", now);
  const from = dayOf(Math.min(since, now) - DAY_MS);
  const to = dayOf(now);
  await database(env.DB).insert(archiveScrubs).values({ id, customerId, keys: JSON.stringify(keys), fromDay: from, toDay: to, day: from, cursor: "", startedAt: now, updatedAt: now });
  // If this send is lost, the cron resumes the scrub: the row is the scrub, not the message.
  await env.JOBS.send(jobOf(id));
  return { id, from, to };
}

type Row = { keys: string | null; day: string; cursor: string; toDay: string; customerId: string };

export async function runScrubJob(env: Env, job: ScrubJob | LegacyScrubJob, now = Date.now()): Promise<{ rewritten: number; deleted: number; removed: number }> {
  if (job.v === 1) {
    // Queued before an upgrade: becomes a scrub with a progress row, where the old job had got to.
    const id = `scr_legacy_${job.customerId}`;
    await database(env.DB)
      .insert(archiveScrubs)
      .values({ id, customerId: job.customerId, keys: JSON.stringify(job.keys), fromDay: job.day, toDay: job.toDay, day: job.day, cursor: job.cursor, startedAt: now, updatedAt: now })
      .onConflictDoNothing({ target: archiveScrubs.id });
    return runScrubJob(env, jobOf(id), now);
  }
  const db = database(env.DB);
  const s = archiveScrubs;
  const row: Row | undefined = await db.select({ keys: s.keys, day: s.day, cursor: s.cursor, toDay: s.toDay, customerId: s.customerId }).from(s).where(eq(s.id, job.scrubId)).get();
  if (!row || row.cursor === DONE || row.keys === null) return { rewritten: 0, deleted: 0, removed: 0 };
  const counts = await scrubPage(env, new Set(JSON.parse(row.keys) as string[]), row.day, row.cursor);
  const more = counts.truncated ? { day: row.day, cursor: counts.cursor } : row.day < row.toDay ? { day: nextDay(row.day), cursor: "" } : null;
  // The row moves only from where this job found it: a duplicate that ran meanwhile moved it
  // already, and then this one sends nothing (one chain goes on).
  const moved = await db
    .update(s)
    .set({
      day: more?.day ?? row.day,
      cursor: more?.cursor ?? DONE,
      objects: sql`${s.objects} + ${counts.objects}`,
      rewritten: sql`${s.rewritten} + ${counts.rewritten}`,
      deleted: sql`${s.deleted} + ${counts.deleted}`,
      removed: sql`${s.removed} + ${counts.removed}`,
      updatedAt: now,
      // Done: the erased identifiers are not kept any longer than the scrub needs them.
      ...(more ? { finishedAt: null } : { finishedAt: now, keys: null }),
    })
    .where(and(eq(s.id, job.scrubId), eq(s.day, row.day), eq(s.cursor, row.cursor)))
    .run();
  if ((moved.meta.changes ?? 0) > 0 && more) await env.JOBS.send(jobOf(job.scrubId));
  log("info", more ? "archive.scrub_page" : "archive.scrub_done", { scrubId: job.scrubId, customerId: row.customerId, day: row.day, objects: counts.objects, rewritten: counts.rewritten, deleted: counts.deleted, removed: counts.removed });
  return counts;
}

/** One page of one day's objects, without the erased identifiers' events. */
async function scrubPage(env: Env, erased: ReadonlySet<string>, day: string, cursor: string) {
  const normalize = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const listed = await env.ARCHIVE.list({ prefix: dayPrefix(day), limit: OBJECTS_PER_JOB, ...(cursor ? { cursor } : {}) });
  let [rewritten, deleted, removed] = [0, 0, 0];
  for (const object of listed.objects) {
    const body = await env.ARCHIVE.get(object.key);
    if (!body) continue;
    const events = await gunzipLines(body.body);
    const kept = events.filter((e) => !lookupKeysOf(e, normalize).some((k) => erased.has(k)));
    if (kept.length === events.length) continue;
    removed += events.length - kept.length;
    if (kept.length === 0) {
      await env.ARCHIVE.delete(object.key);
      deleted++;
    } else {
      await env.ARCHIVE.put(object.key, await gzip(`${kept.map(eventJson).join("\n")}\n`), {
        httpMetadata: body.httpMetadata ?? { contentType: "application/gzip" },
        customMetadata: { ...body.customMetadata, events: String(kept.length) },
      });
      rewritten++;
    }
  }
  return { objects: listed.objects.length, rewritten, deleted, removed, truncated: listed.truncated, cursor: listed.truncated ? listed.cursor : "" };
}

/**
 * Takes up every scrub that stopped moving (the daily cron): its next job is sent again. Safe to
 * run while a chain is alive: the row guards against two chains moving it.
 */
export async function resumeStalledScrubs(env: Env, now = Date.now()): Promise<number> {
  const results = await database(env.DB).select({ id: archiveScrubs.id }).from(archiveScrubs).where(and(isNull(archiveScrubs.finishedAt), lt(archiveScrubs.updatedAt, now - SCRUB_STALL_MS))).limit(100).all();
  if (results.length > 0) await env.JOBS.sendBatch(results.map((r) => ({ body: jobOf(r.id) })));
  if (results.length > 0) log("warn", "archive.scrubs_resumed", { scrubs: results.map((r) => r.id) });
  return results.length;
}

export async function getScrub(d1: D1Database, id: string): Promise<Scrub | null> {
  const s = archiveScrubs;
  const row = await database(d1)
    .select({ id: s.id, customerId: s.customerId, from: s.fromDay, to: s.toDay, day: s.day, objects: s.objects, rewritten: s.rewritten, deleted: s.deleted, removed: s.removed, startedAt: s.startedAt, updatedAt: s.updatedAt, finishedAt: s.finishedAt })
    .from(s)
    .where(eq(s.id, id))
    .get();
  return row ?? null;
}
