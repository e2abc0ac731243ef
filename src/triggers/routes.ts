/**
 * `/v1/triggers` (admin keys): behavioural trigger definitions, versioned. `PUT` saves a new
 * version (`If-Match: "<version>"` guards against overwriting someone else's change), `rollback`
 * saves an old version again as the newest, `DELETE` stops it (its history stays).
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion } from "../api/validation";
import { saveVersioned } from "../api/versioned";
import { TriggerDefinition, TriggerId } from "./definition";
import { outboundPolicy, requireOutboundUrl } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { RECIPES } from "./recipes";
import { deleteTrigger, getTrigger, listTriggers, listTriggerVersions, rollbackTrigger, saveTrigger, type StoredTrigger } from "./store";
import { isoOrNull } from "../kernel/time";

export const triggerView = (t: StoredTrigger) => ({ id: t.id, version: t.version, enabled: t.enabled, definition: t.definition, createdAt: isoOrNull(t.createdAt)!, updatedAt: isoOrNull(t.updatedAt)!, deletedAt: isoOrNull(t.deletedAt) });

const RollbackRequest = z.object({ version: z.number().int().min(1) });
const TAG = "Triggers";

export function registerTriggerRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/triggers", tag: TAG, scope: "admin", summary: "Behavioural triggers (current versions)", responses: { 200: "Triggers" } }, async (c) =>
    c.json({ triggers: (await listTriggers(c.env.DB)).map(triggerView) }),
  );

  route(app, { method: "get", path: "/v1/triggers/recipes", tag: TAG, scope: "admin", summary: "The shipped recipes: browse, cart abandonment, post-purchase, win-back, price drop, back in stock", responses: { 200: "Recipes" } }, (c) =>
    c.json({ recipes: Object.entries(RECIPES).map(([id, definition]) => ({ id, definition })) }),
  );

  route(
    app,
    {
      method: "put",
      path: "/v1/triggers/{id}",
      tag: TAG,
      scope: "admin",
      summary: 'Save a new version of a trigger (If-Match: "<version>" to guard against concurrent edits)',
      params: z.object({ id: TriggerId }),
      body: TriggerDefinition,
      responses: { 200: "Saved", 201: "Created", 412: "Someone saved another version meanwhile" },
    },
    async (c, { params: { id }, body: definition }) => {
      requireOutboundUrl(definition.destination.url, "destination.url", outboundPolicy(readConfig(c.env), true));
      const { trigger, created } = await saveVersioned("Trigger", id, () => saveTrigger(c.env.DB, id, definition, ifMatchVersion(c.req.header("if-match"))));
      return c.json(triggerView(trigger), created ? 201 : 200, { etag: `"${trigger.version}"` });
    },
  );

  route(app, { method: "get", path: "/v1/triggers/{id}", tag: TAG, scope: "admin", summary: "A trigger's current version", params: IdParam, responses: { 200: "The trigger", 404: "No such trigger" } }, async (c, { params: { id } }) => {
    const trigger = await getTrigger(c.env.DB, id);
    if (!trigger) throw new ApiError("not_found", `No trigger ${id}`);
    return c.json(triggerView(trigger), 200, { etag: `"${trigger.version}"` });
  });

  route(app, { method: "get", path: "/v1/triggers/{id}/versions", tag: TAG, scope: "admin", summary: "Every saved version of a trigger, newest first", params: IdParam, responses: { 200: "Versions", 404: "No such trigger" } }, async (c, { params: { id } }) => {
    const versions = await listTriggerVersions(c.env.DB, id);
    if (versions.length === 0) throw new ApiError("not_found", `No trigger ${id}`);
    return c.json({ id, versions: versions.map((v) => ({ ...v, createdAt: isoOrNull(v.createdAt) })) });
  });

  route(app, { method: "post", path: "/v1/triggers/{id}/rollback", tag: TAG, scope: "admin", summary: "Save an old version again as the newest", params: IdParam, body: RollbackRequest, responses: { 200: "Saved", 404: "No such version" } }, async (c, { params: { id }, body: { version } }) => {
    const saved = await rollbackTrigger(c.env.DB, id, version);
    if (!saved) throw new ApiError("not_found", `Trigger ${id} has no version ${version}`);
    return c.json(triggerView(saved.trigger), 200, { etag: `"${saved.trigger.version}"` });
  });

  route(app, { method: "delete", path: "/v1/triggers/{id}", tag: TAG, scope: "admin", summary: "Stop a trigger (its history stays; pending timers are dropped when due)", params: IdParam, responses: { 204: "Deleted", 404: "No such trigger" } }, async (c, { params: { id } }) => {
    if (!(await deleteTrigger(c.env.DB, id))) throw new ApiError("not_found", `No trigger ${id}`);
    return c.body(null, 204);
  });
}
