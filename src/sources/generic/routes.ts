/**
 * `/v1/sources/{id}` (admin keys): generic inbound webhook sources, declared (verification and
 * field mapping; docs/sources.md). `POST /v1/sources/{id}/webhook` is where the source's system
 * sends: no API key, its signature or token instead. A bad one gets 401 and nothing is kept; an
 * item no mapping applies to is quarantined with the reason; the rest go on the event queue.
 */
import { z } from "zod";
import type { App } from "../../api/app";
import { IdParam, route } from "../../api/route";
import { registerDefinitionRoutes } from "../../api/definition-routes";
import { isoOrNull } from "../../kernel/time";
import { SourceDefinition, SourceId } from "./definition";
import { deleteSource, getSource, listSources, saveSource, type StoredSource } from "./store";
import { missingSecrets } from "./verify";
import { receiveWebhook } from "./webhook-routes";

const view = (s: StoredSource) => ({ id: s.id, version: s.version, definition: s.definition, webhook: `/v1/sources/${s.id}/webhook`, createdAt: isoOrNull(s.createdAt), updatedAt: isoOrNull(s.updatedAt) });

const TAG = "Sources";

export function registerSourceRoutes(app: App): void {
  // The webhook endpoint is verified by the source's own signature; the rest takes admin keys.
  route(
    app,
    {
      method: "post",
      path: "/v1/sources/{id}/webhook",
      tag: TAG,
      scope: "signed",
      auth: "The signature or token the source's definition declares, checked against its secrets",
      summary: "Where the source's system sends: verified by the source's signature or token (no API key), items mapped to Segment events, unmappable ones quarantined",
      params: IdParam,
      rawBody: { schema: z.unknown().describe("The source system's own JSON, as its definition maps it") },
      responses: { 200: "Accepted and quarantined counts", 401: "The signature or token does not verify", 404: "No such source", 413: "Over 1 MB", 503: "The secret the source names is not configured" },
    },
    (c, { params: { id } }) => receiveWebhook(c, id),
  );

  registerDefinitionRoutes(app, {
    path: "/v1/sources",
    tag: TAG,
    noun: "Source",
    listKey: "sources",
    id: SourceId,
    definition: SourceDefinition,
    view,
    summaries: {
      list: "Declared webhook sources (verification and field mappings)",
      put: 'Declare a webhook source (If-Match: "<version>"); warns when a secret it names is not set',
      get: "One source",
      delete: "Delete a source: its webhook stops answering",
    },
    list: listSources,
    get: getSource,
    async save(c, id, definition, expectedVersion) {
      const { source, created } = await saveSource(c.env.DB, id, definition, expectedVersion);
      // Saved all the same (the secret may be set next), but said: its webhook cannot verify yet.
      const warnings = missingSecrets(c.env, definition.signature.secretNames).map((n) => `secret ${n} is not configured: its webhook answers 503 until it is set (\`wrangler secret put ${n}\`, or ${n}=… in .dev.vars locally)`);
      return { stored: source, created, extra: warnings.length > 0 ? { warnings } : {} };
    },
    delete: (c, id) => deleteSource(c.env.DB, id),
  });
}
