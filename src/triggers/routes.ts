/**
 * `/v1/triggers` (admin keys): behavioural trigger definitions, versioned. `PUT` saves a new
 * version (`If-Match: "<version>"` guards against overwriting someone else's change), `rollback`
 * saves an old version again as the newest, `DELETE` stops it (its history stays).
 */
import { z } from "zod";
import type { App } from "../app";
import { database } from "../db/client";
import { requireKey } from "../http/auth";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion, jsonBody, parseInput } from "../http/validation";
import { saveVersioned } from "../http/versioned";
import { TriggerDefinition, TriggerId } from "./definition";
import { outboundPolicy, requireOutboundUrl } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { RECIPES } from "./recipes";
import { deleteTrigger, getTrigger, listTriggers, listTriggerVersions, rollbackTrigger, saveTrigger, type StoredTrigger } from "./store";
import { isoOrNull } from "../kernel/time";

export const triggerView = (t: StoredTrigger) => ({ id: t.id, version: t.version, enabled: t.enabled, definition: t.definition, createdAt: isoOrNull(t.createdAt)!, updatedAt: isoOrNull(t.updatedAt)!, deletedAt: isoOrNull(t.deletedAt) });

const RollbackRequest = z.object({ version: z.number().int().min(1) });

export function registerTriggerRoutes(app: App): void {
  app.use("/v1/triggers", requireKey("admin"));
  app.use("/v1/triggers/*", requireKey("admin"));

  app.get("/v1/triggers", async (c) => c.json({ triggers: (await listTriggers(database(c.env.DB))).map(triggerView) }));

  app.get("/v1/triggers/recipes", (c) => c.json({ recipes: Object.entries(RECIPES).map(([id, definition]) => ({ id, definition })) }));

  app.put("/v1/triggers/:id", async (c) => {
    const id = parseInput(TriggerId, c.req.param("id"), "trigger id");
    const definition = parseInput(TriggerDefinition, await jsonBody(c), "trigger definition");
    requireOutboundUrl(definition.destination.url, "destination.url", outboundPolicy(readConfig(c.env), true));
    const { trigger, created } = await saveVersioned("Trigger", id, () => saveTrigger(database(c.env.DB), id, definition, ifMatchVersion(c.req.header("if-match"))));
    return c.json(triggerView(trigger), created ? 201 : 200, { etag: `"${trigger.version}"` });
  });

  app.get("/v1/triggers/:id", async (c) => {
    const trigger = await getTrigger(database(c.env.DB), c.req.param("id"));
    if (!trigger) throw new ApiError("not_found", `No trigger ${c.req.param("id")}`);
    return c.json(triggerView(trigger), 200, { etag: `"${trigger.version}"` });
  });

  app.get("/v1/triggers/:id/versions", async (c) => {
    const versions = await listTriggerVersions(database(c.env.DB), c.req.param("id"));
    if (versions.length === 0) throw new ApiError("not_found", `No trigger ${c.req.param("id")}`);
    return c.json({ id: c.req.param("id"), versions: versions.map((v) => ({ ...v, createdAt: isoOrNull(v.createdAt) })) });
  });

  app.post("/v1/triggers/:id/rollback", async (c) => {
    const { version } = parseInput(RollbackRequest, await jsonBody(c), "rollback request");
    const saved = await rollbackTrigger(database(c.env.DB), c.req.param("id"), version);
    if (!saved) throw new ApiError("not_found", `Trigger ${c.req.param("id")} has no version ${version}`);
    return c.json(triggerView(saved.trigger), 200, { etag: `"${saved.trigger.version}"` });
  });

  app.delete("/v1/triggers/:id", async (c) => {
    if (!(await deleteTrigger(database(c.env.DB), c.req.param("id")))) throw new ApiError("not_found", `No trigger ${c.req.param("id")}`);
    return c.body(null, 204);
  });
}
