/**
 * `/v1/tracking-plans` (admin keys): tracking plans per source, a dry-run check of a message, and
 * the recorded violations, listed and counted per event name. docs/tracking-plans.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion, jsonBody, parseInput } from "../api/validation";
import { saveVersioned } from "../api/versioned";
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

export function registerTrackingPlanRoutes(app: App): void {
  app.use("/v1/tracking-plans", requireKey("admin"));
  app.use("/v1/tracking-plans/*", requireKey("admin"));
  app.get("/v1/tracking-plans", async (c) => c.json({ plans: (await listPlans(c.env.DB)).map(view) }));

  // Before `/:id`: these paths are not plans (the id `violations` is reserved).
  app.get("/v1/tracking-plans/violations", async (c) => {
    const q = parseInput(ListQuery, c.req.query(), "query");
    return c.json(await listViolations(c.env.DB, filterOf(q), q.limit, q.cursor));
  });
  app.get("/v1/tracking-plans/violations/counts", async (c) => {
    const q = parseInput(Filter, c.req.query(), "query");
    return c.json({ counts: await countViolations(c.env.DB, filterOf(q)) });
  });

  app.put("/v1/tracking-plans/:id", async (c) => {
    const id = parseInput(PlanId, c.req.param("id"), "tracking plan id");
    const plan = parseInput(TrackingPlan, await jsonBody(c), "tracking plan");
    checkSchemas(plan);
    const { stored, created } = await saveVersioned("Tracking plan", id, async () => {
      try {
        return await savePlan(c.env.DB, id, plan, ifMatchVersion(c.req.header("if-match")));
      } catch (err) {
        if (err instanceof SourceTaken) throw new ApiError("conflict", `Source ${err.source} already has tracking plan ${err.planId}; a source has one plan`, [{ field: "sources", message: `${err.source} is in plan ${err.planId}` }]);
        throw err;
      }
    });
    forgetPlans();
    return c.json(view(stored), created ? 201 : 200, { etag: `"${stored.version}"` });
  });
  app.get("/v1/tracking-plans/:id", async (c) => {
    const plan = await requirePlan(c.env.DB, c.req.param("id"));
    return c.json(view(plan), 200, { etag: `"${plan.version}"` });
  });
  app.delete("/v1/tracking-plans/:id", async (c) => {
    if (!(await deletePlan(c.env.DB, c.req.param("id")))) throw new ApiError("not_found", `No tracking plan ${c.req.param("id")}`);
    forgetPlans();
    return c.body(null, 204);
  });

  // What the plan would do with a message, without sending it: for testing a plan or an SDK call.
  app.post("/v1/tracking-plans/:id/check", async (c) => {
    const stored = await requirePlan(c.env.DB, c.req.param("id"));
    const outcome = await validateOne(await jsonBody(c), undefined, "", { receivedAt: new Date(), sourceId: stored.definition.sources[0]! });
    if ("errors" in outcome) throw new ApiError("validation_failed", "The message is not a valid Segment message", outcome.errors);
    const verdict = checkEvent(compilePlan(stored.id, stored.version, stored.definition), outcome.event);
    if (verdict.outcome === "clean") return c.json({ plan: stored.id, version: stored.version, action: "none", violations: [], event: verdict.event });
    return c.json({ plan: stored.id, version: stored.version, action: verdict.record.action, violations: verdict.record.violations, ...(verdict.outcome === "pass" ? { event: verdict.event } : {}) });
  });
}
