/**
 * `/v1/segments` (admin keys): segment rules, versioned like triggers (`If-Match` guards
 * concurrent edits, `rollback` saves an old version as the newest), with their members (a page
 * at a time, or streamed as NDJSON), size and history, a dry run for draft rules, and the
 * evaluation passes. Saving, disabling or deleting a segment starts a pass over every profile.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { database } from "../db/client";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion, jsonBody, parseInput } from "../api/validation";
import { saveVersioned } from "../api/versioned";
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

const RollbackRequest = z.object({ version: z.number().int().min(1) });
const DryRunRequest = z.object({ rule: Rule });
const MembersQuery = z.object({ limit: z.coerce.number().int().min(1).max(1_000).default(100), after: z.string().max(200).default("") });
const HistoryQuery = z.object({ days: z.coerce.number().int().min(1).max(365).default(30) });

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

async function existing(c: { env: Env; req: { param(name: string): string } }): Promise<StoredSegment> {
  const segment = await getSegment(database(c.env.DB), c.req.param("id"));
  if (!segment) throw new ApiError("not_found", `No segment ${c.req.param("id")}`);
  return segment;
}

export function registerSegmentRoutes(app: App): void {
  app.use("/v1/segments", requireKey("admin"));
  app.use("/v1/segments/*", requireKey("admin"));

  app.get("/v1/segments", async (c) => c.json({ segments: (await listSegments(database(c.env.DB))).map(segmentView) }));

  app.get("/v1/segments/recipes", (c) => c.json({ recipes: Object.entries(SEGMENT_RECIPES).map(([id, definition]) => ({ id, definition })) }));

  app.post("/v1/segments/dry-run", async (c) => {
    const { rule } = parseInput(DryRunRequest, await jsonBody(c), "dry run");
    return c.json(await checkedReferences(c.env, rule, () => dryRun(c.env, rule)));
  });

  app.get("/v1/segments/runs", async (c) => c.json({ runs: (await listRuns(c.env.DB)).map(runView) }));

  app.post("/v1/segments/runs", async (c) => {
    const run = await getRun(c.env.DB, await startPass(c.env, "manual"));
    return c.json(runView(run!), 202);
  });

  app.get("/v1/segments/runs/:runId", async (c) => {
    const run = await getRun(c.env.DB, c.req.param("runId"));
    if (!run) throw new ApiError("not_found", `No evaluation run ${c.req.param("runId")}`);
    return c.json(runView(run));
  });

  app.put("/v1/segments/:id", async (c) => {
    const id = parseInput(SegmentId, c.req.param("id"), "segment id");
    const definition = parseInput(SegmentDefinition, await jsonBody(c), "segment definition");
    const { segment, created, changed } = await checkedReferences(c.env, definition.rule, () =>
      saveVersioned("Segment", id, () => saveSegment(database(c.env.DB), id, definition, ifMatchVersion(c.req.header("if-match")))),
    );
    if (changed && !definition.enabled) await dropMembers(c.env.DB, id);
    // Every profile is evaluated against the new rule (entries and exits follow as events).
    const runId = changed ? await startPass(c.env, `saved:${id}@${segment.version}`) : null;
    return c.json({ ...segmentView(changed && !definition.enabled ? { ...segment, size: 0 } : segment), runId }, created ? 201 : 200, { etag: `"${segment.version}"` });
  });

  app.get("/v1/segments/:id", async (c) => {
    const segment = await existing(c);
    return c.json(segmentView(segment), 200, { etag: `"${segment.version}"` });
  });

  app.get("/v1/segments/:id/versions", async (c) => {
    const versions = await listSegmentVersions(database(c.env.DB), c.req.param("id"));
    if (versions.length === 0) throw new ApiError("not_found", `No segment ${c.req.param("id")}`);
    return c.json({ id: c.req.param("id"), versions: versions.map((v) => ({ ...v, createdAt: isoOrNull(v.createdAt) })) });
  });

  app.post("/v1/segments/:id/rollback", async (c) => {
    const { version } = parseInput(RollbackRequest, await jsonBody(c), "rollback request");
    const id = c.req.param("id");
    const definition = await segmentVersion(database(c.env.DB), id, version);
    if (!definition) throw new ApiError("not_found", `Segment ${id} has no version ${version}`);
    const { segment, changed } = await checkedReferences(c.env, definition.rule, () => saveVersioned("Segment", id, () => saveSegment(database(c.env.DB), id, definition)));
    const runId = changed ? await startPass(c.env, `saved:${id}@${segment.version}`) : null;
    return c.json({ ...segmentView(segment), runId }, 200, { etag: `"${segment.version}"` });
  });

  app.delete("/v1/segments/:id", async (c) => {
    const id = c.req.param("id");
    const dependents = await dependentsOf(database(c.env.DB), id);
    if (dependents.length > 0) throw new ApiError("conflict", `Segment ${id} is named by the rules of ${dependents.join(", ")}; change those first`, [], { dependents });
    if (!(await deleteSegment(c.env.DB, id))) throw new ApiError("not_found", `No segment ${id}`);
    // Profiles forget it (their snapshots too).
    await startPass(c.env, `deleted:${id}`);
    return c.body(null, 204);
  });

  app.get("/v1/segments/:id/members", async (c) => {
    const segment = await existing(c);
    const { limit, after } = parseInput(MembersQuery, c.req.query(), "query");
    return c.json({ id: segment.id, size: segment.size, ...(await memberPage(c.env.DB, segment.id, after, limit)) });
  });

  app.get("/v1/segments/:id/members/export", async (c) => {
    const segment = await existing(c);
    return new Response(membersExport(c.env.DB, segment.id), {
      headers: { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="${segment.id}-members.ndjson"`, "cache-control": "no-store" },
    });
  });

  app.get("/v1/segments/:id/history", async (c) => {
    const segment = await existing(c);
    const { days } = parseInput(HistoryQuery, c.req.query(), "query");
    return c.json({ id: segment.id, size: segment.size, days: await segmentHistory(c.env.DB, segment.id, days) });
  });
}
