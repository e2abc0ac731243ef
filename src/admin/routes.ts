/**
 * The admin API (admin keys only): API keys, the quarantine of refused messages, the dead
 * letters of the event queue with their replay, and the data-quality report.
 */
import { backfillNeeded, startBackfill } from "../segments/backfill";
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { createKey, listKeys, revokeKey, type ApiKey } from "../keys/store";
import { getDeadLetter, listDeadLetters, replayDeadLetter } from "../queues/dead-letters";
import { listQuarantine } from "../tracking/quarantine";
import { decideCandidate, listCandidates, scanDuplicates } from "../pipeline/duplicate-scan";
import { UnmergeConflict, unmerge } from "../pipeline/unmerge";
import { isWriteConflict } from "../db/write-conflict";
import { forgetOwners } from "../profiles/read";
import { dataQualityReport } from "../profiles/data-quality";
import { ApiKeySchema, CreateKeyRequest, DeadLetterQuery, DuplicatesQuery, PageQuery, ReplayQuery } from "./schemas";
import { isoOrNull } from "../kernel/time";

const keyView = (k: ApiKey) => ({ ...k, createdAt: isoOrNull(k.createdAt)!, revokedAt: isoOrNull(k.revokedAt) });

const Pair = z.object({ a: z.string(), b: z.string() });
const TAG = "Admin";

export function registerAdminRoutes(app: App): void {
  route(
    app,
    { method: "post", path: "/v1/admin/keys", tag: TAG, scope: "admin", summary: "Create an API key (the secret is shown once)", body: CreateKeyRequest, responses: { 201: { description: "The key and its secret", schema: ApiKeySchema.extend({ secret: z.string() }) } } },
    async (c, { body }) => {
      const { key, plaintext } = await createKey(c.env.DB, body.kind, body.name);
      return c.json({ ...keyView(key), secret: plaintext }, 201);
    },
  );

  route(app, { method: "get", path: "/v1/admin/keys", tag: TAG, scope: "admin", summary: "List API keys", responses: { 200: { description: "Keys", schema: z.object({ keys: z.array(ApiKeySchema) }) } } }, async (c) =>
    c.json({ keys: (await listKeys(c.env.DB)).map(keyView) }),
  );

  route(app, { method: "delete", path: "/v1/admin/keys/{id}", tag: TAG, scope: "admin", summary: "Revoke an API key", params: IdParam, responses: { 200: { description: "The revoked key", schema: ApiKeySchema }, 404: "No such key" } }, async (c, { params: { id } }) => {
    const key = await revokeKey(c.env.DB, id);
    if (!key) throw new ApiError("not_found", `No key ${id}`);
    return c.json(keyView(key));
  });

  route(app, { method: "get", path: "/v1/admin/quarantine", tag: TAG, scope: "admin", summary: "Messages refused at ingest, with reason and raw payload", query: PageQuery, responses: { 200: "A page, and the `next` cursor" } }, async (c, { query: q }) => {
    const items = await listQuarantine(c.env.DB, q.limit, q.before);
    return c.json({ items, next: items.length === q.limit ? items[items.length - 1]!.seq : null });
  });

  route(
    app,
    { method: "post", path: "/v1/admin/merges/{mergedId}/unmerge", tag: TAG, scope: "admin", summary: "Undo a merge: restore the merged-away customer and derive both profiles again from their events", params: z.object({ mergedId: z.string() }), responses: { 200: "Unmerged", 404: "No such merge", 409: "The profiles changed meanwhile; try again" } },
    async (c, { params: { mergedId } }) => {
      try {
        const result = await unmerge(c.env, mergedId);
        if (!result) throw new ApiError("not_found", `No merge of ${mergedId}`);
        forgetOwners(result.restoredIdentities);
        return c.json(result);
      } catch (err) {
        if (err instanceof UnmergeConflict || isWriteConflict(err)) throw new ApiError("conflict", `The profiles changed while unmerging; try again (${err instanceof Error ? err.message : String(err)})`);
        throw err;
      }
    },
  );

  route(app, { method: "post", path: "/v1/admin/duplicates/scan", tag: TAG, scope: "admin", summary: "Find likely duplicate profiles (sharing no identifier); merge the sure ones, keep the others for review", responses: { 200: "Scan result" } }, async (c) =>
    c.json(await scanDuplicates(c.env)),
  );

  // Computed traits for old profiles that no event has touched since (the daily cron does it too).
  route(app, { method: "post", path: "/v1/admin/computed-traits/backfill", tag: TAG, scope: "admin", summary: "Derive the computed traits of old profiles no event has touched since (a job; the daily cron starts it too)", responses: { 202: "Started, or nothing to do" } }, async (c) => {
    const needed = await backfillNeeded(c.env);
    if (needed) await startBackfill(c.env);
    return c.json({ started: needed }, 202);
  });

  route(app, { method: "get", path: "/v1/admin/duplicates", tag: TAG, scope: "admin", summary: "Duplicate candidates by status", query: DuplicatesQuery, responses: { 200: "Candidates" } }, async (c, { query: q }) =>
    c.json({ items: await listCandidates(c.env, q.status, q.limit) }),
  );

  for (const decision of ["merge", "reject"] as const) {
    route(
      app,
      {
        method: "post",
        path: `/v1/admin/duplicates/{a}/{b}/${decision}`,
        tag: TAG,
        scope: "admin",
        summary: decision === "merge" ? "Merge a pending candidate pair" : "Reject a pending candidate pair: it is not proposed again",
        params: Pair,
        responses: decision === "merge" ? { 200: "Merged", 404: "No pending candidate", 409: "The identity rules refuse it" } : { 200: "Rejected", 404: "No pending candidate" },
      },
      async (c, { params: { a, b } }) => {
        const decided = await decideCandidate(c.env, a, b, decision);
        if (!decided) throw new ApiError("not_found", "No pending duplicate candidate for that pair");
        if (decided.reason) throw new ApiError("conflict", `The identity rules refuse this merge (${decided.reason})`);
        return c.json(decided);
      },
    );
  }

  route(app, { method: "get", path: "/v1/admin/data-quality", tag: TAG, scope: "admin", summary: "Quarantine by reason, traits that could not be normalized, profile completeness", responses: { 200: "The report" } }, async (c) =>
    c.json(await dataQualityReport(c.env.DB), 200, { "cache-control": "no-store" }),
  );

  route(app, { method: "get", path: "/v1/admin/dead-letters", tag: TAG, scope: "admin", summary: "Queue messages that exhausted their retries, or could not be read", query: DeadLetterQuery, responses: { 200: "A page" } }, async (c, { query: q }) =>
    c.json(await listDeadLetters(c.env.DB, { limit: q.limit, before: q.before, pendingOnly: q.status === "pending" })),
  );

  // Before `/{id}`: `replay` is not a dead letter's id.
  route(app, { method: "post", path: "/v1/admin/dead-letters/replay", tag: TAG, scope: "admin", summary: "Replay every pending dead letter (up to limit)", query: PageQuery, responses: { 200: "Replayed" } }, async (c, { query: { limit } }) => {
    const { items } = await listDeadLetters(c.env.DB, { limit, pendingOnly: true });
    const replayed = [];
    for (const letter of items) replayed.push(await replayDeadLetter(c.env, letter));
    return c.json({ replayed: replayed.length, items: replayed });
  });

  route(app, { method: "get", path: "/v1/admin/dead-letters/{id}", tag: TAG, scope: "admin", summary: "One dead letter", params: IdParam, responses: { 200: "The dead letter", 404: "No such dead letter" } }, async (c, { params: { id } }) => {
    const letter = await getDeadLetter(c.env.DB, id);
    if (!letter) throw new ApiError("not_found", `No dead letter ${id}`);
    return c.json(letter);
  });

  route(
    app,
    { method: "post", path: "/v1/admin/dead-letters/{id}/replay", tag: TAG, scope: "admin", summary: "Put a dead letter back on its queue", params: IdParam, query: ReplayQuery, responses: { 200: "Replayed", 404: "No such dead letter", 409: "Already replayed (force=true replays it again)" } },
    async (c, { params: { id }, query: { force } }) => {
      const letter = await getDeadLetter(c.env.DB, id);
      if (!letter) throw new ApiError("not_found", `No dead letter ${id}`);
      if (letter.replayedAt && !force) throw new ApiError("conflict", `Dead letter ${letter.id} was replayed at ${letter.replayedAt}; add ?force=true to replay it again`);
      return c.json(await replayDeadLetter(c.env, letter));
    },
  );
}
