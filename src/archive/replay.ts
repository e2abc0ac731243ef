/**
 * Replay: the archived events of a range of days (of receipt) put back on the event queue, so the
 * pipeline rebuilds the profiles from them: into an empty database, or over the existing one (the
 * pipeline drops events it already has, by messageId, and those of erased customers).
 *
 * A chain of jobs on the jobs queue: each lists a page of objects of one day, sends their events
 * in packs (as ingest does) and records the progress, which moves once per page, so a retried job
 * sends its page again (harmless: deduplicated) but counts it once. Replayed packs are marked and
 * not archived again.
 */
import { and, eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { archiveReplays } from "../db/schema";
import { newId } from "../kernel/crypto";
import { packEvents } from "../ingest/pack";
import { sendPacks } from "../ingest/send";
import { log } from "../kernel/log";
import { dayPrefix, gunzipLines } from "./writer";
import type { ReplayJob } from "../model/jobs";

export const REPLAY_SOURCE = "archive-replay";
const OBJECTS_PER_JOB = 20;
const DAY_MS = 86_400_000;

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

export async function startReplay(env: Env, from: string, to: string, now = Date.now()): Promise<string> {
  const id = newId("rpl", now);
  await database(env.DB).insert(archiveReplays).values({ id, fromDay: from, toDay: to, day: from, cursor: "", startedAt: now });
  await env.JOBS.send({ v: 1, kind: "archive_replay", replayId: id, day: from, cursor: "" } satisfies ReplayJob);
  return id;
}

export async function runReplayJob(env: Env, job: ReplayJob, now = Date.now()): Promise<{ objects: number; events: number }> {
  const db = database(env.DB);
  const r = archiveReplays;
  const replay = await db.select({ toDay: r.toDay }).from(r).where(eq(r.id, job.replayId)).get();
  if (!replay) return { objects: 0, events: 0 };
  const listed = await env.ARCHIVE.list({ prefix: dayPrefix(job.day), limit: OBJECTS_PER_JOB, ...(job.cursor ? { cursor: job.cursor } : {}) });
  let events = 0;
  for (const object of listed.objects) {
    const body = await env.ARCHIVE.get(object.key);
    if (!body) continue;
    const archived = await gunzipLines(body.body);
    events += archived.length;
    const packs = packEvents(archived, [], { sourceId: REPLAY_SOURCE, receivedAt: new Date(now).toISOString() });
    await sendPacks(env, 0, packs);
  }
  const next: ReplayJob | null = listed.truncated
    ? { ...job, cursor: listed.cursor }
    : job.day < replay.toDay
      ? { ...job, day: nextDay(job.day), cursor: "" }
      : null;
  // Progress moves once per page (a retried page finds it moved and counts nothing). The next
  // job is sent even then: the first attempt may have failed before sending it.
  await db
    .update(r)
    .set({ day: next?.day ?? job.day, cursor: next?.cursor ?? "\u0000done", objects: sql`${r.objects} + ${listed.objects.length}`, events: sql`${r.events} + ${events}`, ...(next ? {} : { finishedAt: now }) })
    .where(and(eq(r.id, job.replayId), eq(r.day, job.day), eq(r.cursor, job.cursor)));
  if (next) await env.JOBS.send(next);
  log("info", "archive.replay_page", { replayId: job.replayId, day: job.day, objects: listed.objects.length, events, more: next !== null });
  return { objects: listed.objects.length, events };
}

export async function getReplay(d1: D1Database, id: string) {
  const r = archiveReplays;
  const row = await database(d1).select({ id: r.id, from: r.fromDay, to: r.toDay, startedAt: r.startedAt, finishedAt: r.finishedAt, objects: r.objects, events: r.events }).from(r).where(eq(r.id, id)).get();
  return row ?? null;
}
