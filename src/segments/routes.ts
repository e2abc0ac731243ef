/**
 * `/v1/segments` (admin keys): segment rules, versioned like triggers (`If-Match` guards
 * concurrent edits, `rollback` saves an old version as the newest), with their members (a page
 * at a time, or streamed as NDJSON), size and history, a dry run for draft rules, and the
 * evaluation passes. Saving, disabling or deleting a segment starts a pass over every profile.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { isoOrNull } from "../kernel/time";
import { Rule, SegmentDefinition, SegmentId, traitsReferencedBy } from "./definition";
import { listCustomTraits } from "./custom-traits-store";
import { dryRun } from "./dry-run";
import { getRun, listRuns, startPass } from "./pass";
import { SEGMENT_RECIPES } from "./recipes";
import { deleteSegment, dependentsOf, dropMembers, getSegment, listSegments, listSegmentVersions, SegmentReferenceError, saveSegment, segmentVersion, type StoredSegment } from "./store";
import { memberPage, membersExport, segmentHistory } from "./members-read";

export const segmentView = (s: StoredSegment) => ({
  id: s.id,
  version: s.version,
  enabled: s.definition.enabled,
  size: s.size,
  definition: s.definition,
  createdAt: isoOrNull(s.createdAt)!,
  updatedAt: isoOrNull(s.updatedAt)!,
});

const runView = (r: NonNullable<Awaited<ReturnType<typeof getRun>>>) => ({ ...r, startedAt: isoOrNull(r.startedAt), finishedAt: isoOrNull(r.finishedAt) });

const DryRunRequest = z.object({ rule: Rule });
const MembersQuery = z.object({ limit: z.coerce.number().int().min(1).max(1_000).default(100), after: z.string().max(200).default("") });
const HistoryQuery = z.object({ days: z.coerce.number().int().min(1).max(365).default(30) });
const TAG = "Segments";

/** A rule naming a missing segment or computed trait, or a cycle: a 400 on the rule. */
async function checkedReferences<T>(env: Env, rule: Rule, run: () => Promise<T>): Promise<T> {
  const known = new Set((await listCustomTraits(env.DB)).map((t) => t.id));
  const unknown = traitsReferencedBy(rule).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new ApiError("validation_failed", "Invalid segment definition", [{ field: "rule", message: `names computed traits that do not exist: ${unknown.join(", ")}` }]);
  try {
    return await run();
  } catch (err) {
    if (err instanceof SegmentReferenceError) throw new ApiError("validation_failed", "Invalid segment definition", [{ field: "rule", message: err.message }]);
    throw err;
  }
}

async function existing(env: Env, id: string): Promise<StoredSegment> {
  const segment = await getSegment(env.DB, id);
  if (!segment) throw new ApiError("not_found", `No segment ${id}`);
  return segment;
}

export function registerSegmentRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/segments/recipes", tag: TAG, scope: "admin", summary: "The shipped segments: high value, VIP, at risk, new prospects", responses: { 200: "Recipes" } }, (c) =>
    c.json({ recipes: Object.entries(SEGMENT_RECIPES).map(([id, definition]) => ({ id, definition })) }),
  );

  // Before the kit's `/{id}` routes: `dry-run` and `runs` are not segments.
  registerPassRoutes(app);

  registerDefinitionRoutes(app, {
    path: "/v1/segments",
    tag: TAG,
    noun: "Segment",
    listKey: "segments",
    id: SegmentId,
    definition: SegmentDefinition,
    view: segmentView,
    summaries: {
      list: "Segments (current versions) with their sizes",
      put: 'Save a new version of a segment (If-Match: "<version>"); starts an evaluation pass',
      get: "A segment's current version and size",
      delete: "Delete a segment (its members go; its history stays)",
    },
    putResponses: { 400: "Invalid definition, a missing segment named, or a cycle" },
    deleteResponses: { 409: "Other segments' rules name it" },
    list: listSegments,
    get: getSegment,
    async save(c, id, definition, expectedVersion) {
      const { segment, created, changed } = await checkedReferences(c.env, definition.rule, () => saveSegment(c.env.DB, id, definition, expectedVersion));
      if (changed && !definition.enabled) await dropMembers(c.env, id);
      // Every profile is evaluated against the new rule (entries and exits follow as events).
      const runId = changed ? await startPass(c.env, `saved:${id}@${segment.version}`) : null;
      return { stored: changed && !definition.enabled ? { ...segment, size: 0 } : segment, created, extra: { runId } };
    },
    async delete(c, id) {
      const dependents = await dependentsOf(c.env.DB, id);
      if (dependents.length > 0) throw new ApiError("conflict", `Segment ${id} is named by the rules of ${dependents.join(", ")}; change those first`, [], { dependents });
      if (!(await deleteSegment(c.env, id))) return false;
      // Profiles forget it (their snapshots too).
      await startPass(c.env, `deleted:${id}`);
      return true;
    },
    history: {
      versions: listSegmentVersions,
      rollbackSummary: "Save an old version again as the newest",
      async rollback(c, id, version) {
        const definition = await segmentVersion(c.env.DB, id, version);
        if (!definition) return null;
        const { segment, changed } = await checkedReferences(c.env, definition.rule, () => saveSegment(c.env.DB, id, definition));
        const runId = changed ? await startPass(c.env, `saved:${id}@${segment.version}`) : null;
        return c.json({ ...segmentView(segment), runId }, 200, { etag: `"${segment.version}"` });
      },
    },
  });

  registerMemberRoutes(app);
}

/** A draft rule's dry run, and the evaluation passes over every profile. */
function registerPassRoutes(app: App): void {
  route(app, { method: "post", path: "/v1/segments/dry-run", tag: TAG, scope: "admin", summary: "How many profiles a draft rule would match now (nothing saved)", body: DryRunRequest, responses: { 200: "Matched, scanned, total, a sample" } }, async (c, { body: { rule } }) =>
    c.json(await checkedReferences(c.env, rule, () => dryRun(c.env, rule))),
  );

  route(app, { method: "get", path: "/v1/segments/runs", tag: TAG, scope: "admin", summary: "Recent evaluation passes over every profile, with their progress", responses: { 200: "Runs" } }, async (c) =>
    c.json({ runs: (await listRuns(c.env.DB)).map(runView) }),
  );

  route(app, { method: "post", path: "/v1/segments/runs", tag: TAG, scope: "admin", summary: "Start an evaluation pass now", responses: { 202: "The run" } }, async (c) => {
    const run = await getRun(c.env.DB, await startPass(c.env, "manual"));
    return c.json(runView(run!), 202);
  });

  route(app, { method: "get", path: "/v1/segments/runs/{runId}", tag: TAG, scope: "admin", summary: "One evaluation pass (finishedAt is set when it is done)", params: z.object({ runId: z.string() }), responses: { 200: "The run", 404: "No such run" } }, async (c, { params: { runId } }) => {
    const run = await getRun(c.env.DB, runId);
    if (!run) throw new ApiError("not_found", `No evaluation run ${runId}`);
    return c.json(runView(run));
  });
}

/** A segment's members (a page, or every one as NDJSON) and its history of sizes. */
function registerMemberRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/segments/{id}/members", tag: TAG, scope: "admin", summary: "Members by customer id (after = the previous page's next)", params: IdParam, query: MembersQuery, responses: { 200: "A page", 404: "No such segment" } }, async (c, { params: { id }, query: { limit, after } }) => {
    const segment = await existing(c.env, id);
    return c.json({ id: segment.id, size: segment.size, ...(await memberPage(c.env, segment.id, after, limit)) });
  });

  route(
    app,
    { method: "get", path: "/v1/segments/{id}/members/export", tag: TAG, scope: "admin", summary: "Every member as NDJSON (customerId, userId, email, enteredAt), streamed", params: IdParam, responses: { 200: { description: "One member a line", contentType: "application/x-ndjson" }, 404: "No such segment" } },
    async (c, { params: { id } }) => {
      const segment = await existing(c.env, id);
      return new Response(membersExport(c.env, segment.id), {
        headers: { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="${segment.id}-members.ndjson"`, "cache-control": "no-store" },
      });
    },
  );

  route(app, { method: "get", path: "/v1/segments/{id}/history", tag: TAG, scope: "admin", summary: "Entries, exits and size per UTC day (up to 365 days)", params: IdParam, query: HistoryQuery, responses: { 200: "History", 404: "No such segment" } }, async (c, { params: { id }, query: { days } }) => {
    const segment = await existing(c.env, id);
    return c.json({ id: segment.id, size: segment.size, days: await segmentHistory(c.env.DB, segment.id, days) });
  });

}
