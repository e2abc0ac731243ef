/**
 * `/v1/enrichers` (admin keys): third-party HTTP enrichers, and a test call that shows what the
 * service answers for a key (nothing cached or stored). docs/enrichment.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { ifMatchVersion } from "../api/validation";
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

const TestRequest = z.object({ key: z.string().min(1).max(320) });
const TAG = "Enrichment";

export function registerEnricherRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/enrichers", tag: TAG, scope: "admin", summary: "Third-party HTTP enrichers (looked up by email domain or email, answers marked and never over the customer's own values)", responses: { 200: "Enrichers" } }, async (c) =>
    c.json({ enrichers: (await listEnrichers(c.env.DB)).map(view) }),
  );

  route(
    app,
    {
      method: "put",
      path: "/v1/enrichers/{id}",
      tag: TAG,
      scope: "admin",
      summary: 'Save an enricher (If-Match: "<version>"); applies to the customers of later batches within 30 s',
      params: z.object({ id: EnricherId }),
      body: EnricherDefinition,
      responses: { 200: "Saved", 201: "Created", 412: "Someone saved another version meanwhile" },
    },
    async (c, { params: { id }, body: definition }) => {
      // Checked with a key in place of {key}: the call's host is known without it.
      requireOutboundUrl(definition.url.replaceAll("{key}", "example.com"), "url", outboundPolicy(readConfig(c.env)));
      const { enricher, created } = await saveVersioned("Enricher", id, () => saveEnricher(c.env.DB, id, definition, ifMatchVersion(c.req.header("if-match"))));
      return c.json(view(enricher), created ? 201 : 200, { etag: `"${enricher.version}"` });
    },
  );

  route(app, { method: "get", path: "/v1/enrichers/{id}", tag: TAG, scope: "admin", summary: "One enricher", params: IdParam, responses: { 200: "The enricher", 404: "No such enricher" } }, async (c, { params: { id } }) => {
    const e = await requireEnricher(c.env.DB, id);
    return c.json(view(e), 200, { etag: `"${e.version}"` });
  });

  route(app, { method: "delete", path: "/v1/enrichers/{id}", tag: TAG, scope: "admin", summary: "Delete an enricher (traits it supplied stay, marked)", params: IdParam, responses: { 204: "Deleted", 404: "No such enricher" } }, async (c, { params: { id } }) => {
    if (!(await deleteEnricher(c.env.DB, id))) throw new ApiError("not_found", `No enricher ${id}`);
    return c.body(null, 204);
  });

  // One call to the service with a key of your choosing: to check the URL, secrets and mapping.
  route(
    app,
    { method: "post", path: "/v1/enrichers/{id}/test", tag: TAG, scope: "admin", summary: "Call the service once for a key, nothing cached or stored: to check the URL, secrets and mapping", params: IdParam, body: TestRequest, responses: { 200: "found (with traits), not_found, or failed (with the reason)", 404: "No such enricher" } },
    async (c, { params: { id }, body: { key } }) => {
      const e = await requireEnricher(c.env.DB, id);
      const started = Date.now();
      const result = await lookup(c.env, e.definition, key);
      return c.json({ enricher: e.id, key, ms: Date.now() - started, ...result });
    },
  );
}
