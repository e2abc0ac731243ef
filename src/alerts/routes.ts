/**
 * `/v1/alerts` (admin keys): alert rules (versioned like every definition), the alerts as they
 * stand, the history of notifications, and an evaluation on demand (the cron runs one a minute).
 * docs/alerting.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { route } from "../api/route";
import { isoOrNull } from "../kernel/time";
import { outboundPolicy, requireOutboundUrl } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { AlertRuleDefinition, AlertRuleId } from "./definition";
import { evaluateAlerts } from "./evaluate";
import { alertHistoryPage, deleteAlertRule, forgetStates, getAlertRule, listAlertRules, saveAlertRule, statesOf, type StoredAlertRule } from "./store";

const TAG = "Alerts";
const view = (r: StoredAlertRule) => ({ id: r.id, version: r.version, ...r.definition, createdAt: isoOrNull(r.createdAt), updatedAt: isoOrNull(r.updatedAt) });

export function registerAlertRoutes(app: App): void {
  route(
    app,
    { method: "get", path: "/v1/alerts", tag: TAG, scope: "admin", summary: "Every rule's alerts as they stand: firing, resolving (not yet told to every destination) or resolved, since when, the value, the dedup key", responses: { 200: "Alerts" } },
    async (c) => c.json({ alerts: (await statesOf(c.env.DB)).map((s) => ({ ...s, since: isoOrNull(s.since), notifiedAt: isoOrNull(s.notifiedAt || null), updatedAt: isoOrNull(s.updatedAt) })) }),
  );
  route(
    app,
    {
      method: "get",
      path: "/v1/alerts/history",
      tag: TAG,
      scope: "admin",
      summary: "Notifications sent (trigger, reminder, resolve), newest first, with each destination's answer",
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), before: z.iso.datetime({ offset: true }).optional().describe("Paging: entries before this time") }),
      responses: { 200: "History" },
    },
    async (c, { query }) => c.json({ history: await alertHistoryPage(c.env.DB, query.limit, query.before ? Date.parse(query.before) : undefined) }),
  );
  route(
    app,
    { method: "post", path: "/v1/alerts/evaluate", tag: TAG, scope: "admin", summary: "Evaluate every enabled rule now (as the cron does each minute) and notify what changed", responses: { 200: "What was notified" } },
    async (c) => c.json(await evaluateAlerts(c.env)),
  );
  // Fixed paths above are distinct from /v1/alerts/rules/{id}.
  registerDefinitionRoutes(app, {
    path: "/v1/alerts/rules",
    tag: TAG,
    noun: "Alert rule",
    listKey: "rules",
    id: AlertRuleId,
    definition: AlertRuleDefinition,
    view,
    summaries: { list: "Alert rules", put: 'Save an alert rule (If-Match: "<version>"): metric, threshold, window, cool-down, severity, destinations', get: "One alert rule", delete: "Delete an alert rule (its alerts go; its history stays)" },
    list: listAlertRules,
    get: getAlertRule,
    async save(c, id, definition, expectedVersion) {
      // The deployment's outbound policy when saved, and again at each call (alerts/notify.ts).
      for (const [i, d] of definition.destinations.entries()) requireOutboundUrl(d.url, `destinations[${i}].url`, outboundPolicy(readConfig(c.env), true));
      const { stored, created } = await saveAlertRule(c.env.DB, id, definition, expectedVersion);
      return { stored, created };
    },
    async delete(c, id) {
      if (!(await deleteAlertRule(c.env.DB, id))) return false;
      await forgetStates(c.env.DB, id);
      return true;
    },
  });
}
