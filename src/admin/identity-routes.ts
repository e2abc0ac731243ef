/**
 * Identity operations (admin keys): undo a merge, scan for likely duplicates, and decide the
 * candidates the scan keeps for review. They run the pipeline's merge path synchronously, so the
 * answer shows the customers as they now are.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { isWriteConflict } from "../db/write-conflict";
import { decideCandidate, listCandidates, scanDuplicates } from "../pipeline/duplicate-scan";
import { UnmergeConflict, unmerge } from "../pipeline/unmerge";
import { forgetOwners } from "../profiles/read";
import { DuplicatesQuery } from "./schemas";

const Pair = z.object({ a: z.string(), b: z.string() });
const TAG = "Admin";

export function registerIdentityAdminRoutes(app: App): void {
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
}
