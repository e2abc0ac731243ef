/**
 * `/v1/admin/archive` (admin keys): the raw event archive in R2. List a day's objects, and replay
 * a range of days through the pipeline (`npx rapport replay --from … --to …` calls this); follow
 * an erasure's scrub of the archive.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { isoOrNull } from "../kernel/time";
import { getReplay, startReplay } from "./replay";
import { getScrub } from "./scrub";
import { dayPrefix } from "./writer";

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD").refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), "must be a real date");
const ReplayRequest = z.object({ from: Day, to: Day }).refine((r) => r.from <= r.to, { message: "must not be before from", path: ["to"] });
const ListQuery = z.object({ day: Day, cursor: z.string().max(1_000).optional() });

const TAG = "Archive";

export function registerArchiveRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/admin/archive", tag: TAG, scope: "admin", summary: "The raw event archive's objects of a day (gzip NDJSON by hour)", query: ListQuery, responses: { 200: "Objects and the next cursor" } }, async (c, { query: { day, cursor } }) => {
    const listed = await c.env.ARCHIVE.list({ prefix: dayPrefix(day), limit: 500, include: ["customMetadata"], ...(cursor ? { cursor } : {}) });
    return c.json({
      day,
      objects: listed.objects.map((o) => ({ key: o.key, bytes: o.size, events: Number(o.customMetadata?.events ?? 0), uploaded: o.uploaded.toISOString() })),
      cursor: listed.truncated ? listed.cursor : null,
    });
  });

  route(app, { method: "post", path: "/v1/admin/archive/replays", tag: TAG, scope: "admin", summary: "Replay the archived events of days of receipt through the pipeline (idempotent; erased customers stay erased)", body: ReplayRequest, responses: { 202: "The replay", 400: "Not two dates in order" } }, async (c, { body: { from, to } }) => {
    const replay = await getReplay(c.env.DB, await startReplay(c.env, from, to));
    return c.json({ ...replay!, startedAt: isoOrNull(replay!.startedAt), finishedAt: null }, 202);
  });

  // An erasure's scrub of the archive (its id is in the erasure's answer): finished once `finishedAt` is set.
  route(app, { method: "get", path: "/v1/admin/archive/scrubs/{id}", tag: TAG, scope: "admin", summary: "An erasure's scrub of the archive: progress, and finished once every object of every day was read", params: IdParam, responses: { 200: "The scrub", 404: "No such scrub" } }, async (c, { params: { id } }) => {
    const scrub = await getScrub(c.env.DB, id);
    if (!scrub) throw new ApiError("not_found", `No scrub ${id}`);
    return c.json({ ...scrub, startedAt: isoOrNull(scrub.startedAt), updatedAt: isoOrNull(scrub.updatedAt), finishedAt: isoOrNull(scrub.finishedAt), finished: scrub.finishedAt !== null });
  });

  route(app, { method: "get", path: "/v1/admin/archive/replays/{id}", tag: TAG, scope: "admin", summary: "A replay's progress (finishedAt when done)", params: IdParam, responses: { 200: "The replay", 404: "No such replay" } }, async (c, { params: { id } }) => {
    const replay = await getReplay(c.env.DB, id);
    if (!replay) throw new ApiError("not_found", `No replay ${id}`);
    return c.json({ ...replay, startedAt: isoOrNull(replay.startedAt), finishedAt: isoOrNull(replay.finishedAt) });
  });
}
