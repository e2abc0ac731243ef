/**
 * `/v1/admin/archive` (admin keys): the raw event archive in R2. List a day's objects, and replay
 * a range of days through the pipeline (`npx rapport replay --from … --to …` calls this); follow
 * an erasure's scrub of the archive.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { ApiError } from "../kernel/errors";
import { jsonBody, parseInput } from "../api/validation";
import { isoOrNull } from "../kernel/time";
import { getReplay, startReplay } from "./replay";
import { getScrub } from "./scrub";
import { dayPrefix } from "./writer";

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD").refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), "must be a real date");
const ReplayRequest = z.object({ from: Day, to: Day }).refine((r) => r.from <= r.to, { message: "must not be before from", path: ["to"] });
const ListQuery = z.object({ day: Day, cursor: z.string().max(1_000).optional() });

export function registerArchiveRoutes(app: App): void {
  app.get("/v1/admin/archive", async (c) => {
    const { day, cursor } = parseInput(ListQuery, c.req.query(), "query");
    const listed = await c.env.ARCHIVE.list({ prefix: dayPrefix(day), limit: 500, include: ["customMetadata"], ...(cursor ? { cursor } : {}) });
    return c.json({
      day,
      objects: listed.objects.map((o) => ({ key: o.key, bytes: o.size, events: Number(o.customMetadata?.events ?? 0), uploaded: o.uploaded.toISOString() })),
      cursor: listed.truncated ? listed.cursor : null,
    });
  });

  app.post("/v1/admin/archive/replays", async (c) => {
    const { from, to } = parseInput(ReplayRequest, await jsonBody(c), "replay request");
    const replay = await getReplay(c.env.DB, await startReplay(c.env, from, to));
    return c.json({ ...replay!, startedAt: isoOrNull(replay!.startedAt), finishedAt: null }, 202);
  });

  // An erasure's scrub of the archive (its id is in the erasure's answer): finished once `finishedAt` is set.
  app.get("/v1/admin/archive/scrubs/:id", async (c) => {
    const scrub = await getScrub(c.env.DB, c.req.param("id"));
    if (!scrub) throw new ApiError("not_found", `No scrub ${c.req.param("id")}`);
    return c.json({ ...scrub, startedAt: isoOrNull(scrub.startedAt), updatedAt: isoOrNull(scrub.updatedAt), finishedAt: isoOrNull(scrub.finishedAt), finished: scrub.finishedAt !== null });
  });

  app.get("/v1/admin/archive/replays/:id", async (c) => {
    const replay = await getReplay(c.env.DB, c.req.param("id"));
    if (!replay) throw new ApiError("not_found", `No replay ${c.req.param("id")}`);
    return c.json({ ...replay, startedAt: isoOrNull(replay.startedAt), finishedAt: isoOrNull(replay.finishedAt) });
  });
}
