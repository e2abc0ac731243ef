/**
 * `/v1/sources/{id}` (admin keys): generic inbound webhook sources, declared (verification and
 * field mapping; docs/sources.md). `POST /v1/sources/{id}/webhook` is where the source's system
 * sends: no API key, its signature or token instead. A bad one gets 401 and nothing is kept; an
 * item no mapping applies to is quarantined with the reason; the rest go on the event queue.
 */
import { z } from "zod";
import type { App } from "../../api/app";
import { IdParam, route } from "../../api/route";
import { ApiError } from "../../kernel/errors";
import { readBodyBytes } from "../../kernel/request-body";
import { registerDefinitionRoutes } from "../../api/definition-routes";
import { fieldPath } from "../../kernel/field-errors";
import { MAX_NESTING_DEPTH, tooDeepAt } from "../../model/depth";
import { parseJsonExact } from "../../model/exact-json";
import { enqueue, rejection } from "../../ingest/accept";
import { sha256Hex } from "../../kernel/crypto";
import { isoOrNull } from "../../kernel/time";
import { valueAt } from "../../model/rules";
import type { RejectedMessage, StoredEvent } from "../../model/events";
import { SourceDefinition, SourceId } from "./definition";
import { itemsOf, mapItem } from "./mapping";
import { deleteSource, getSource, listSources, saveSource, type StoredSource } from "./store";
import { missingSecrets, verifySourceRequest } from "./verify";

const MAX_BODY_BYTES = 1024 * 1024;
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
    async (c, { params: { id } }) => {
      const source = await getSource(c.env.DB, id);
      if (!source) throw new ApiError("not_found", `No source ${id}`);
      const body = await readBodyBytes(c.req.raw, MAX_BODY_BYTES, "source webhook");
      // Nothing could verify: the operator's mistake, not the sender's (who would otherwise be told
      // its signature is wrong).
      const unset = missingSecrets(c.env, source.definition.signature.secretNames);
      if (unset.length === source.definition.signature.secretNames.length) {
        throw new ApiError("not_configured", `Source ${source.id}: secret not configured (${unset.join(", ")}); set it with \`wrangler secret put\` (or in .dev.vars locally)`);
      }
      if (!(await verifySourceRequest(c.env, source.definition.signature, body, (h) => c.req.header(h)))) {
        throw new ApiError("unauthorized", `The request's ${source.definition.signature.header} does not verify with the secrets of source ${source.id}`);
      }
      const receivedAt = new Date();
      const ctx = { receivedAt, sourceId: `source:${source.id}` };
      const endpoint = `/v1/sources/${source.id}/webhook`;
      const text = new TextDecoder().decode(body);
      let payload: unknown;
      try {
        payload = parseJsonExact(text);
      } catch {
        await enqueue(c.env, [], [rejection(endpoint, "invalid_json", [{ field: "(body)", message: "must be JSON" }], text)], ctx, c.get("requestId"));
        return c.json({ success: true, accepted: 0, quarantined: 1 });
      }
      const tooDeep = tooDeepAt(payload, MAX_NESTING_DEPTH);
      if (tooDeep) {
        await enqueue(c.env, [], [rejection(endpoint, "too_deep", [{ field: fieldPath(tooDeep), message: `nests deeper than ${MAX_NESTING_DEPTH} levels` }], text)], ctx, c.get("requestId"));
        return c.json({ success: true, accepted: 0, quarantined: 1 });
      }
      const items = itemsOf(source.definition, payload);
      if (!items) {
        await enqueue(c.env, [], [rejection(endpoint, "unmappable", [{ field: source.definition.items!, message: "is not a list in this payload" }], text)], ctx, c.get("requestId"));
        return c.json({ success: true, accepted: 0, quarantined: 1 });
      }
      const events: StoredEvent[] = [];
      const rejected: RejectedMessage[] = [];
      for (const [i, item] of items.entries()) {
        // The item's own id when the source has one (retries count once), else its content.
        const declared = source.definition.id ? valueAt(item, source.definition.id.path) : undefined;
        const itemId = typeof declared === "string" || typeof declared === "number" ? String(declared) : (await sha256Hex(JSON.stringify(item))).slice(0, 32);
        const mapped = mapItem(source.id, source.definition, item, { itemId, receivedAt: receivedAt.toISOString() });
        if ("event" in mapped) events.push(mapped.event);
        else rejected.push(rejection(endpoint, "unmappable", [{ field: source.definition.items ? `${source.definition.items}[${i}]` : "(body)", message: mapped.unmappable }], item));
      }
      const queued = await enqueue(c.env, events, rejected, ctx, c.get("requestId"));
      return c.json({ success: true, accepted: queued.accepted, quarantined: rejected.length + queued.quarantined });
    },
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
