/**
 * Erasure reaches the raw archive: after a customer is erased, a chain of jobs reads every
 * archived object received since the customer's first event and rewrites those holding events
 * with one of the customer's identifiers without them (or deletes an object left empty). A page
 * of objects per job; a retried page finds nothing left to remove.
 */
import { readConfig } from "../config";
import { lookupKeysOf } from "../identity/keys";
import { log } from "../log";
import { dayPrefix, gunzipLines, gzip } from "./writer";

const OBJECTS_PER_JOB = 20;
const DAY_MS = 86_400_000;

export type ScrubJob = { v: 1; kind: "archive_scrub"; customerId: string; keys: string[]; day: string; toDay: string; cursor: string };

export function isScrubJob(body: unknown): body is ScrubJob {
  const j = body as ScrubJob | null;
  return typeof j === "object" && j !== null && j.v === 1 && j.kind === "archive_scrub" && Array.isArray(j.keys) && typeof j.day === "string" && typeof j.toDay === "string" && typeof j.cursor === "string";
}

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** Starts the scrub of an erased customer's events, from the day before `since` to today. */
export async function startScrub(env: Env, customerId: string, keys: readonly string[], since: number, now = Date.now()): Promise<{ from: string; to: string }> {
  const job: ScrubJob = { v: 1, kind: "archive_scrub", customerId, keys: [...keys], day: dayOf(Math.min(since, now) - DAY_MS), toDay: dayOf(now), cursor: "" };
  await env.JOBS.send(job);
  return { from: job.day, to: job.toDay };
}

export async function runScrubJob(env: Env, job: ScrubJob): Promise<{ rewritten: number; deleted: number; removed: number }> {
  const erased = new Set(job.keys);
  const normalize = { defaultPhoneCountry: readConfig(env).defaultPhoneCountry };
  const listed = await env.ARCHIVE.list({ prefix: dayPrefix(job.day), limit: OBJECTS_PER_JOB, ...(job.cursor ? { cursor: job.cursor } : {}) });
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
      await env.ARCHIVE.put(object.key, await gzip(kept.map((e) => JSON.stringify(e)).join("\n") + "\n"), {
        httpMetadata: body.httpMetadata ?? { contentType: "application/gzip" },
        customMetadata: { ...body.customMetadata, events: String(kept.length) },
      });
      rewritten++;
    }
  }
  const next = listed.truncated ? { ...job, cursor: listed.cursor } : job.day < job.toDay ? { ...job, day: dayOf(Date.parse(`${job.day}T00:00:00Z`) + DAY_MS), cursor: "" } : null;
  if (next) await env.JOBS.send(next);
  log("info", next ? "archive.scrub_page" : "archive.scrub_done", { customerId: job.customerId, day: job.day, objects: listed.objects.length, rewritten, deleted, removed });
  return { rewritten, deleted, removed };
}
