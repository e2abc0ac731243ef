/**
 * `GET /v1/customers/{id}` (the profile, for ESP merge tags; `GET /customer/{id}` is the same) and
 * `GET /v1/customers/{id}/events`.
 * Both need a read (or admin) key, checked before any lookup: without one the answer is 401
 * whether or not the customer exists.
 */
import { lookupCustomers, MAX_LOOKUP } from "./lookup";
import { z } from "zod";
import type { App } from "../api/app";
import { route } from "../api/route";
import type { StoredEvent } from "../model/events";
import { ApiError } from "../kernel/errors";
import { mergesInto } from "./merges";
import { findCustomer, resolveCurrentCustomerId } from "./read";
import { readConfig } from "../model/config";
import { contentToken } from "../content/links";
import { loadCustomerEvents } from "./events";

export const EventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
});

const Ref = z.object({ id: z.string().describe("A userId, a master id (cus_…), `anonymous_id:<value>`, `email:<value>`, `phone:<value>`, `external:<type>:<id>` or `user_id:<value>`") });
const TAG = "Customers";
const LookupRequest = z.object({ ids: z.array(z.string().min(1).max(1_024)).min(1).max(MAX_LOOKUP, `at most ${MAX_LOOKUP} ids per call`) });

export function registerProfileRoutes(app: App): void {
  // The design card's spelling, /customer/{id}, for ESP templates written from it: the same route, auth and answers.
  route(
    app,
    {
      method: "get",
      path: "/v1/customers/{id}",
      aliases: ["/customer/{id}"],
      tag: TAG,
      scope: "read",
      summary: "A customer profile (for ESP merge tags)",
      params: Ref,
      responses: { 200: { description: "The profile", schema: { $ref: "#/components/schemas/CustomerProfile" }, headers: { ETag: "The profile's version: If-None-Match answers 304" } }, 304: "Not modified", 404: "No such customer" },
    },
    async (c, { params: { id: ref } }) => {
      const found = await findCustomer(c.env, ref, (p) => c.executionCtx.waitUntil(p));
      if (!found) throw new ApiError("not_found", `No customer matches ${JSON.stringify(ref)}`);
      const etag = `W/"${found.id}.${found.version}"`;
      const headers = { etag, "cache-control": "private, no-cache", "x-rapport-source": found.source };
      if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
      return c.body(await withContentToken(c.env, found.body, found.id), 200, { ...headers, "content-type": "application/json" });
    },
  );

  route(
    app,
    { method: "post", path: "/v1/customers/lookup", tag: TAG, scope: "read", summary: "Up to 100 customers in one call, by refs of any form (KV bulk reads); each ref is found or not found on its own", body: LookupRequest, responses: { 200: "Results in the order asked: { ref, found, customer } or { ref, found: false, status: 404 }" } },
    async (c, { body: { ids } }) => {
      const results = await lookupCustomers(c.env, ids, (p) => c.executionCtx.waitUntil(p));
      // Bodies are the stored documents, spliced in as they are (with each one's content token).
      const parts = await Promise.all(
        results.map(async (r) =>
          r.found
            ? `{"ref":${JSON.stringify(r.ref)},"found":true,"customer":${await withContentToken(c.env, r.body, r.customerId)}}`
            : `{"ref":${JSON.stringify(r.ref)},"found":false,"status":404,"detail":${JSON.stringify(`No customer matches ${JSON.stringify(r.ref)}`)}}`,
        ),
      );
      return c.body(`{"results":[${parts.join(",")}],"found":${results.filter((r) => r.found).length},"notFound":${results.filter((r) => !r.found).length}}`, 200, { "content-type": "application/json", "cache-control": "private, no-store" });
    },
  );

  route(app, { method: "get", path: "/v1/customers/{id}/merges", tag: TAG, scope: "read", summary: "The customers merged into this one, with their causes", params: Ref, responses: { 200: "Merges", 404: "No such customer" } }, async (c, { params: { id: ref } }) => {
    const id = await resolveCurrentCustomerId(c.env, ref, (p) => c.executionCtx.waitUntil(p));
    if (!id) throw new ApiError("not_found", `No customer matches ${JSON.stringify(ref)}`);
    return c.json({ customerId: id, merges: await mergesInto(c.env, id) }, 200, { "cache-control": "private, no-cache" });
  });

  route(app, { method: "get", path: "/v1/customers/{id}/events", tag: TAG, scope: "read", summary: "A customer's stored events, newest first", params: Ref, query: EventsQuery, responses: { 200: "A page of events, and the next cursor", 404: "No such customer" } }, async (c, { params: { id: ref }, query }) => {
    const id = await resolveCurrentCustomerId(c.env, ref, (p) => c.executionCtx.waitUntil(p));
    if (!id) throw new ApiError("not_found", `No customer matches ${JSON.stringify(ref)}`);
    const events = await loadCustomerEvents(c.env, id);
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const start = after ? events.findIndex((e) => isAfter(e, after)) : 0;
    const page = start === -1 ? [] : events.slice(start, start + query.limit);
    const last = page[page.length - 1];
    const hasMore = start !== -1 && start + page.length < events.length;
    return c.json({ customerId: id, events: page, nextCursor: hasMore && last ? encodeCursor(last) : null }, 200, { "cache-control": "private, no-cache" });
  });
}

/**
 * Adds the customer's content token (what email links carry, content/links.ts) to the stored
 * document, so ESPs syncing profiles can keep it as an attribute. Derived, never stored.
 */
async function withContentToken(env: Env, body: string, id: string): Promise<string> {
  const secrets = readConfig(env).contentSecrets;
  if (secrets.length === 0 || !body.endsWith("}")) return body;
  return `${body.slice(0, -1)},"contentToken":${JSON.stringify(await contentToken(secrets, id))}}`;
}

type Cursor = { ts: number; messageId: string };

function encodeCursor(e: StoredEvent): string {
  return btoa(JSON.stringify([Date.parse(e.timestamp), e.messageId])).replaceAll("=", "");
}

function decodeCursor(cursor: string): Cursor {
  try {
    const [ts, messageId] = JSON.parse(atob(cursor)) as [unknown, unknown];
    if (typeof ts === "number" && typeof messageId === "string") return { ts, messageId };
  } catch {
    // fall through to the error below
  }
  throw new ApiError("validation_failed", "Invalid cursor", [{ field: "cursor", message: "must be a nextCursor returned by this endpoint" }]);
}

/** Is `e` after the cursor in newest-first order? */
function isAfter(e: StoredEvent, c: Cursor): boolean {
  const ts = Date.parse(e.timestamp);
  return ts < c.ts || (ts === c.ts && e.messageId < c.messageId);
}
