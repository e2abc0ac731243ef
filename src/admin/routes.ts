/**
 * The admin API's data-quality routes (admin keys): the quarantine of refused messages, the
 * data-quality report, and the backfill of computed traits. Keys, dead letters and identity
 * operations have files of their own (keys-routes.ts, dead-letter-routes.ts, identity-routes.ts).
 */
import type { App } from "../api/app";
import { route } from "../api/route";
import { dataQualityReport } from "../profiles/data-quality";
import { backfillNeeded, startBackfill } from "../segments/backfill";
import { listQuarantine } from "../tracking/quarantine";
import { PageQuery } from "./schemas";

const TAG = "Admin";

export function registerAdminRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/admin/quarantine", tag: TAG, scope: "admin", summary: "Messages refused at ingest, with reason and raw payload", query: PageQuery, responses: { 200: "A page, and the `next` cursor" } }, async (c, { query: q }) => {
    const items = await listQuarantine(c.env.DB, q.limit, q.before);
    return c.json({ items, next: items.length === q.limit ? items[items.length - 1]!.seq : null });
  });

  // Computed traits for old profiles that no event has touched since (the daily cron does it too).
  route(app, { method: "post", path: "/v1/admin/computed-traits/backfill", tag: TAG, scope: "admin", summary: "Derive the computed traits of old profiles no event has touched since (a job; the daily cron starts it too)", responses: { 202: "Started, or nothing to do" } }, async (c) => {
    const needed = await backfillNeeded(c.env);
    if (needed) await startBackfill(c.env);
    return c.json({ started: needed }, 202);
  });

  route(app, { method: "get", path: "/v1/admin/data-quality", tag: TAG, scope: "admin", summary: "Quarantine by reason, traits that could not be normalized, profile completeness", responses: { 200: "The report" } }, async (c) =>
    c.json(await dataQualityReport(c.env), 200, { "cache-control": "no-store" }),
  );
}
