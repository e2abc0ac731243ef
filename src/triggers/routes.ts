/**
 * `/v1/triggers` (admin keys): behavioural trigger definitions, versioned. `PUT` saves a new
 * version (`If-Match: "<version>"` guards against overwriting someone else's change), `rollback`
 * saves an old version again as the newest, `DELETE` stops it (its history stays).
 */
import type { App } from "../api/app";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { route } from "../api/route";
import { outboundPolicy, requireOutboundUrl } from "../kernel/outbound-url";
import { isoOrNull } from "../kernel/time";
import { readConfig } from "../model/config";
import { TriggerDefinition, TriggerId } from "./definition";
import { RECIPES } from "./recipes";
import { deleteTrigger, getTrigger, listTriggers, listTriggerVersions, rollbackTrigger, saveTrigger, type StoredTrigger } from "./store";

export const triggerView = (t: StoredTrigger) => ({ id: t.id, version: t.version, enabled: t.enabled, definition: t.definition, createdAt: isoOrNull(t.createdAt)!, updatedAt: isoOrNull(t.updatedAt)!, deletedAt: isoOrNull(t.deletedAt) });

const TAG = "Triggers";

export function registerTriggerRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/triggers/recipes", tag: TAG, scope: "admin", summary: "The shipped recipes: browse, cart abandonment, post-purchase, win-back, price drop, back in stock", responses: { 200: "Recipes" } }, (c) =>
    c.json({ recipes: Object.entries(RECIPES).map(([id, definition]) => ({ id, definition })) }),
  );

  registerDefinitionRoutes(app, {
    path: "/v1/triggers",
    tag: TAG,
    noun: "Trigger",
    listKey: "triggers",
    id: TriggerId,
    definition: TriggerDefinition,
    view: triggerView,
    summaries: {
      list: "Behavioural triggers (current versions)",
      put: 'Save a new version of a trigger (If-Match: "<version>" to guard against concurrent edits)',
      get: "A trigger's current version",
      delete: "Stop a trigger (its history stays; pending timers are dropped when due)",
    },
    list: listTriggers,
    get: getTrigger,
    async save(c, id, definition, expectedVersion) {
      requireOutboundUrl(definition.destination.url, "destination.url", outboundPolicy(readConfig(c.env), true));
      const { trigger, created } = await saveTrigger(c.env.DB, id, definition, expectedVersion);
      return { stored: trigger, created };
    },
    delete: (c, id) => deleteTrigger(c.env.DB, id),
    history: {
      versions: listTriggerVersions,
      rollbackSummary: "Save an old version again as the newest",
      async rollback(c, id, version) {
        const saved = await rollbackTrigger(c.env.DB, id, version);
        return saved && c.json(triggerView(saved.trigger), 200, { etag: `"${saved.trigger.version}"` });
      },
    },
  });
}
