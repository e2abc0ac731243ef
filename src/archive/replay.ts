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
import { newId } from "../kernel/crypto";
import { groupForSend, packEvents } from "../ingest/pack";
import { log } from "../kernel/log";
import { dayPrefix, gunzipLines } from "./writer";
import type { ReplayJob } from "../model/jobs";

export const REPLAY_SOURCE = "archive-replay";
const OBJECTS_PER_JOB = 20;
const DAY_MS = 86_400_000;

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

export async function startReplay(env: Env, from: string, to: string, now = Date.now()): Promise<string> {
  const id = newId("rpl", now);
  await env.DB.prepare(`INSERT INTO archive_replays (id, from_day, to_day, day, cursor, started_at) VALUES (?1, ?2, ?3, ?2, '', ?4)`).bind(id, from, to, now).run();
  await env.JOBS.send({ v: 1, kind: "archive_replay", replayId: id, day: from, cursor: "" } satisfies ReplayJob);
  return id;
}

export async function runReplayJob(env: Env, job: ReplayJob, now = Date.now()): Promise<{ objects: number; events: number }> {
  const replay = await env.DB.prepare(`SELECT to_day AS toDay FROM archive_replays WHERE id = ?1`).bind(job.replayId).first<{ toDay: string }>();
  if (!replay) return { objects: 0, events: 0 };
  const listed = await env.ARCHIVE.list({ prefix: dayPrefix(job.day), limit: OBJECTS_PER_JOB, ...(job.cursor ? { cursor: job.cursor } : {}) });
  let events = 0;
  for (const object of listed.objects) {
    const body = await env.ARCHIVE.get(object.key);
    if (!body) continue;
    const archived = await gunzipLines(body.body);
    events += archived.length;
    const packs = packEvents(archived, [], { sourceId: REPLAY_SOURCE, receivedAt: new Date(now).toISOString() });
    for (const group of groupForSend(packs)) await env.EVENTS.sendBatch(group.map((p) => ({ body: p.body, contentType: "text" as const })));
  }
  const next: ReplayJob | null = listed.truncated
    ? { ...job, cursor: listed.cursor }
    : job.day < replay.toDay
      ? { ...job, day: nextDay(job.day), cursor: "" }
      : null;
  // Progress moves once per page (a retried page finds it moved and counts nothing). The next
  // job is sent even then: the first attempt may have failed before sending it.
  await env.DB.prepare(
    `UPDATE archive_replays SET day = ?4, cursor = ?5, objects = objects + ?6, events = events + ?7, finished_at = CASE WHEN ?8 THEN ?9 ELSE finished_at END
     WHERE id = ?1 AND day = ?2 AND cursor = ?3`,
  )
    .bind(job.replayId, job.day, job.cursor, next?.day ?? job.day, next?.cursor ?? "\u0000done", listed.objects.length, events, next ? 0 : 1, now)
    .run();
  if (next) await env.JOBS.send(next);
  log("info", "archive.replay_page", { replayId: job.replayId, day: job.day, objects: listed.objects.length, events, more: next !== null });
  return { objects: listed.objects.length, events };
}

export async function getReplay(d1: D1Database, id: string) {
  return d1
    .prepare(`SELECT id, from_day AS "from", to_day AS "to", started_at AS startedAt, finished_at AS finishedAt, objects, events FROM archive_replays WHERE id = ?1`)
    .bind(id)
    .first<{ id: string; from: string; to: string; startedAt: number; finishedAt: number | null; objects: number; events: number }>();
}
