/**
 * `/v1/enrichers` (admin keys): third-party HTTP enrichers, and a test call that shows what the
 * service answers for a key (nothing cached or stored). docs/enrichment.md.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { registerDefinitionRoutes } from "../api/definition-routes";
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
  registerDefinitionRoutes(app, {
    path: "/v1/enrichers",
    tag: TAG,
    noun: "Enricher",
    listKey: "enrichers",
    id: EnricherId,
    definition: EnricherDefinition,
    view,
    summaries: {
      list: "Third-party HTTP enrichers (looked up by email domain or email, answers marked and never over the customer's own values)",
      put: 'Save an enricher (If-Match: "<version>"); applies to the customers of later batches within 30 s',
      get: "One enricher",
      delete: "Delete an enricher (traits it supplied stay, marked)",
    },
    list: listEnrichers,
    get: getEnricher,
    async save(c, id, definition, expectedVersion) {
      // Checked with a key in place of {key}: the call's host is known without it.
      requireOutboundUrl(definition.url.replaceAll("{key}", "example.com"), "url", outboundPolicy(readConfig(c.env)));
      const { enricher, created } = await saveEnricher(c.env.DB, id, definition, expectedVersion);
      return { stored: enricher, created };
    },
    delete: (c, id) => deleteEnricher(c.env.DB, id),
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
