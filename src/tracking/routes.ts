/**
 * `/v1/tracking-plans` (admin keys): tracking plans per source, a dry-run check of a message, and
 * the recorded violations, listed and counted per event name. docs/tracking-plans.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { validateOne } from "../ingest/accept";
import { isoOrNull } from "../kernel/time";
import { checkEvent } from "./check";
import { compilePlan, schemaProblems } from "./compile";
import { PlanId, TrackingPlan } from "./definition";
import { forgetPlans } from "./plans-cache";
import { deletePlan, getPlan, listPlans, savePlan, SourceTaken, type StoredPlan } from "./store";
import { countViolations, listViolations } from "./violations";

const view = (p: StoredPlan) => ({ id: p.id, version: p.version, ...p.definition, createdAt: isoOrNull(p.createdAt), updatedAt: isoOrNull(p.updatedAt) });

const Filter = z.object({
  source: z.string().max(200).optional(),
  event: z.string().max(200).optional(),
  plan: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});
const ListQuery = Filter.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  // The previous page's `next`: `<receivedAt ms>|<sourceId>|<messageId>`.
  cursor: z.string().max(600).regex(/^\d+\|[^|]+\|.+$/, "must be the `next` of the previous page").optional(),
});

const filterOf = (q: z.infer<typeof Filter>) => ({ source: q.source, event: q.event, plan: q.plan, since: q.since ? Date.parse(q.since) : undefined });

/** A plan whose schemas the validator would misread is refused, naming each place. */
function checkSchemas(plan: TrackingPlan): void {
  const problems = [
    ...Object.entries(plan.events).flatMap(([name, schema]) => schemaProblems(schema, `events.${name}`)),
    ...(plan.identify === undefined ? [] : schemaProblems(plan.identify, "identify")),
    ...(plan.page === undefined ? [] : schemaProblems(plan.page, "page")),
  ];
  if (problems.length > 0) throw new ApiError("validation_failed", "Invalid tracking plan: a schema is not valid JSON Schema", problems.map((p) => ({ field: p.path, message: p.message })));
}

async function requirePlan(d1: D1Database, id: string): Promise<StoredPlan> {
  const plan = await getPlan(d1, id);
  if (!plan) throw new ApiError("not_found", `No tracking plan ${id}`);
  return plan;
}

const TAG = "Tracking plans";

export function registerTrackingPlanRoutes(app: App): void {

  // Before `/{id}`: these paths are not plans (the id `violations` is reserved).
  route(app, { method: "get", path: "/v1/tracking-plans/violations", tag: TAG, scope: "admin", summary: "Events that broke their plan, newest first", query: ListQuery, responses: { 200: "A page and the next cursor" } }, async (c, { query }) =>
    c.json(await listViolations(c.env.DB, filterOf(query), query.limit, query.cursor)),
  );
  route(app, { method: "get", path: "/v1/tracking-plans/violations/counts", tag: TAG, scope: "admin", summary: "Violating events counted per source and event name, by action, with the most frequent paths and rules", query: Filter, responses: { 200: "Counts" } }, async (c, { query }) =>
    c.json({ counts: await countViolations(c.env.DB, filterOf(query)) }),
  );

  registerDefinitionRoutes(app, {
    path: "/v1/tracking-plans",
    tag: TAG,
    noun: "Tracking plan",
    listKey: "plans",
    id: PlanId,
    definition: TrackingPlan,
    view,
    summaries: {
      list: "Tracking plans: per source, a JSON Schema per event and what happens to unplanned events and violations",
      put: 'Save a tracking plan (If-Match: "<version>"); applies at ingest within 30 s',
      get: "One tracking plan",
      delete: "Delete a tracking plan: its sources are no longer checked",
    },
    putResponses: { 400: "Invalid plan or schema (field named)", 409: "A source it names has another plan" },
    list: listPlans,
    get: getPlan,
    async save(c, id, plan, expectedVersion) {
      checkSchemas(plan);
      try {
        const saved = await savePlan(c.env.DB, id, plan, expectedVersion);
        forgetPlans();
        return saved;
      } catch (err) {
        if (err instanceof SourceTaken) throw new ApiError("conflict", `Source ${err.source} already has tracking plan ${err.planId}; a source has one plan`, [{ field: "sources", message: `${err.source} is in plan ${err.planId}` }]);
        throw err;
      }
    },
    async delete(c, id) {
      const deleted = await deletePlan(c.env.DB, id);
      if (deleted) forgetPlans();
      return deleted;
    },
  });

  // What the plan would do with a message, without sending it: for testing a plan or an SDK call.
  route(
    app,
    { method: "post", path: "/v1/tracking-plans/{id}/check", tag: TAG, scope: "admin", summary: "What the plan would do with a Segment message, without sending it", params: IdParam, body: z.unknown().describe("A Segment message"), responses: { 200: "The action, the violations and the event as it would go on", 400: "Not a valid Segment message", 404: "No such plan" } },
    async (c, { params: { id }, body: message }) => {
      const stored = await requirePlan(c.env.DB, id);
      const outcome = await validateOne(message, undefined, "", { receivedAt: new Date(), sourceId: stored.definition.sources[0]! });
      if ("errors" in outcome) throw new ApiError("validation_failed", "The message is not a valid Segment message", outcome.errors);
      const verdict = checkEvent(compilePlan(stored.id, stored.version, stored.definition), outcome.event);
      if (verdict.outcome === "clean") return c.json({ plan: stored.id, version: stored.version, action: "none", violations: [], event: verdict.event });
      return c.json({ plan: stored.id, version: stored.version, action: verdict.record.action, violations: verdict.record.violations, ...(verdict.outcome === "pass" ? { event: verdict.event } : {}) });
    },
  );
}
