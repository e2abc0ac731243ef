/**
 * The admin API (admin keys only): API keys, the quarantine of refused messages, the dead
 * letters of the event queue with their replay, and the data-quality report.
 */
import { backfillNeeded, startBackfill } from "../segments/backfill";
import type { App } from "../api/app";
import { database } from "../db/client";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { jsonBody, parseInput } from "../api/validation";
import { createKey, listKeys, revokeKey, type ApiKey } from "../keys/store";
import { getDeadLetter, listDeadLetters, replayDeadLetter } from "../queues/dead-letters";
import { listQuarantine } from "../tracking/quarantine";
import { decideCandidate, listCandidates, scanDuplicates } from "../pipeline/duplicate-scan";
import { UnmergeConflict, unmerge } from "../pipeline/unmerge";
import { isWriteConflict } from "../db/write-conflict";
import { forgetOwners } from "../profiles/read";
import { dataQualityReport } from "./data-quality";
import { CreateKeyRequest, DeadLetterQuery, DuplicatesQuery, PageQuery, ReplayQuery } from "./schemas";
import { isoOrNull } from "../kernel/time";

const parse = parseInput;

const keyView = (k: ApiKey) => ({ ...k, createdAt: isoOrNull(k.createdAt)!, revokedAt: isoOrNull(k.revokedAt) });

export function registerAdminRoutes(app: App): void {
  app.use("/v1/admin/*", requireKey("admin"));

  app.post("/v1/admin/keys", async (c) => {
    const req = parse(CreateKeyRequest, await jsonBody(c), "key request");
    const { key, plaintext } = await createKey(database(c.env.DB), req.kind, req.name);
    return c.json({ ...keyView(key), secret: plaintext }, 201);
  });

  app.get("/v1/admin/keys", async (c) => c.json({ keys: (await listKeys(database(c.env.DB))).map(keyView) }));

  app.delete("/v1/admin/keys/:id", async (c) => {
    const key = await revokeKey(database(c.env.DB), c.req.param("id"));
    if (!key) throw new ApiError("not_found", `No key ${c.req.param("id")}`);
    return c.json(keyView(key));
  });

  app.get("/v1/admin/quarantine", async (c) => {
    const q = parse(PageQuery, c.req.query(), "query parameters");
    const items = await listQuarantine(database(c.env.DB), q.limit, q.before);
    return c.json({ items, next: items.length === q.limit ? items[items.length - 1]!.seq : null });
  });

  app.post("/v1/admin/merges/:mergedId/unmerge", async (c) => {
    try {
      const result = await unmerge(c.env, c.req.param("mergedId"));
      if (!result) throw new ApiError("not_found", `No merge of ${c.req.param("mergedId")}`);
      forgetOwners(result.restoredIdentities);
      return c.json(result);
    } catch (err) {
      if (err instanceof UnmergeConflict || isWriteConflict(err)) throw new ApiError("conflict", `The profiles changed while unmerging; try again (${err instanceof Error ? err.message : String(err)})`);
      throw err;
    }
  });

  app.post("/v1/admin/duplicates/scan", async (c) => c.json(await scanDuplicates(c.env)));

  // Computed traits for old profiles that no event has touched since (the daily cron does it too).
  app.post("/v1/admin/computed-traits/backfill", async (c) => {
    const needed = await backfillNeeded(c.env);
    if (needed) await startBackfill(c.env);
    return c.json({ started: needed }, 202);
  });

  app.get("/v1/admin/duplicates", async (c) => {
    const q = parse(DuplicatesQuery, c.req.query(), "query parameters");
    return c.json({ items: await listCandidates(c.env, q.status, q.limit) });
  });

  app.post("/v1/admin/duplicates/:a/:b/:decision{merge|reject}", async (c) => {
    const decided = await decideCandidate(c.env, c.req.param("a"), c.req.param("b"), c.req.param("decision") as "merge" | "reject");
    if (!decided) throw new ApiError("not_found", "No pending duplicate candidate for that pair");
    if (decided.reason) throw new ApiError("conflict", `The identity rules refuse this merge (${decided.reason})`);
    return c.json(decided);
  });

  app.get("/v1/admin/data-quality", async (c) => c.json(await dataQualityReport(database(c.env.DB)), 200, { "cache-control": "no-store" }));

  app.get("/v1/admin/dead-letters", async (c) => {
    const q = parse(DeadLetterQuery, c.req.query(), "query parameters");
    return c.json(await listDeadLetters(database(c.env.DB), { limit: q.limit, before: q.before, pendingOnly: q.status === "pending" }));
  });

  app.get("/v1/admin/dead-letters/:id", async (c) => {
    const letter = await getDeadLetter(database(c.env.DB), c.req.param("id"));
    if (!letter) throw new ApiError("not_found", `No dead letter ${c.req.param("id")}`);
    return c.json(letter);
  });

  app.post("/v1/admin/dead-letters/:id/replay", async (c) => {
    const { force } = parse(ReplayQuery, c.req.query(), "query parameters");
    const letter = await getDeadLetter(database(c.env.DB), c.req.param("id"));
    if (!letter) throw new ApiError("not_found", `No dead letter ${c.req.param("id")}`);
    if (letter.replayedAt && !force) throw new ApiError("conflict", `Dead letter ${letter.id} was replayed at ${letter.replayedAt}; add ?force=true to replay it again`);
    return c.json(await replayDeadLetter(c.env, letter));
  });

  app.post("/v1/admin/dead-letters/replay", async (c) => {
    const { limit } = parse(PageQuery, c.req.query(), "query parameters");
    const { items } = await listDeadLetters(database(c.env.DB), { limit, pendingOnly: true });
    const replayed = [];
    for (const letter of items) replayed.push(await replayDeadLetter(c.env, letter));
    return c.json({ replayed: replayed.length, items: replayed });
  });
}
