/**
 * `/v1/enrichers` (admin keys): third-party HTTP enrichers, and a test call that shows what the
 * service answers for a key (nothing cached or stored). docs/enrichment.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { requireKey } from "../api/auth";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion, jsonBody, parseInput } from "../api/validation";
import { saveVersioned } from "../api/versioned";
import { isoOrNull } from "../kernel/time";
import { EnricherDefinition, EnricherId } from "./definition";
import { outboundPolicy, requireOutboundUrl } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { lookup } from "./lookup";
import { deleteEnricher, getEnricher, listEnrichers, saveEnricher, type StoredEnricher } from "./store";

const view = (e: StoredEnricher) => ({ id: e.id, version: e.version, ...e.definition, createdAt: isoOrNull(e.createdAt), updatedAt: isoOrNull(e.updatedAt) });

async function requireEnricher(d1: D1Database, id: string): Promise<StoredEnricher> {
  const e = await getEnricher(d1, id);
  if (!e) throw new ApiError("not_found", `No enricher ${id}`);
  return e;
}

export function registerEnricherRoutes(app: App): void {
  app.use("/v1/enrichers", requireKey("admin"));
  app.use("/v1/enrichers/*", requireKey("admin"));
  app.get("/v1/enrichers", async (c) => c.json({ enrichers: (await listEnrichers(c.env.DB)).map(view) }));
  app.put("/v1/enrichers/:id", async (c) => {
    const id = parseInput(EnricherId, c.req.param("id"), "enricher id");
    const definition = parseInput(EnricherDefinition, await jsonBody(c), "enricher");
    // Checked with a key in place of {key}: the call's host is known without it.
    requireOutboundUrl(definition.url.replaceAll("{key}", "example.com"), "url", outboundPolicy(readConfig(c.env)));
    const { enricher, created } = await saveVersioned("Enricher", id, () => saveEnricher(c.env.DB, id, definition, ifMatchVersion(c.req.header("if-match"))));
    return c.json(view(enricher), created ? 201 : 200, { etag: `"${enricher.version}"` });
  });
  app.get("/v1/enrichers/:id", async (c) => {
    const e = await requireEnricher(c.env.DB, c.req.param("id"));
    return c.json(view(e), 200, { etag: `"${e.version}"` });
  });
  app.delete("/v1/enrichers/:id", async (c) => {
    if (!(await deleteEnricher(c.env.DB, c.req.param("id")))) throw new ApiError("not_found", `No enricher ${c.req.param("id")}`);
    return c.body(null, 204);
  });
  // One call to the service with a key of your choosing: to check the URL, secrets and mapping.
  app.post("/v1/enrichers/:id/test", async (c) => {
    const e = await requireEnricher(c.env.DB, c.req.param("id"));
    const { key } = parseInput(z.object({ key: z.string().min(1).max(320) }), await jsonBody(c), "test request");
    const started = Date.now();
    const result = await lookup(c.env, e.definition, key);
    return c.json({ enricher: e.id, key, ms: Date.now() - started, ...result });
  });
}
