/**
 * The part of the OpenAPI document still written beside the routes rather than from them: the
 * operations of routes not yet defined with `route()` (../route.ts), with schemas generated from
 * the zod schemas the routes validate with. It shrinks as routes move to `route()`;
 * ./openapi.ts merges it under the generated operations.
 */
import { z } from "zod";
import { ApiKeySchema, CreateKeyRequest } from "../../admin/schemas";
import { AliasMessage, BatchRequest, GroupMessage, IdentifyMessage, IngestResponse, PageMessage, ScreenMessage, TrackMessage } from "../../ingest/schemas";
import { CustomerProfile } from "../../profiles/document";
import { CatalogUpdate } from "../../catalog/schemas";
import { TriggerDefinition } from "../../triggers/definition";
import { Rule, SegmentDefinition } from "../../segments/definition";
import { CustomTraitDefinition } from "../../segments/custom-traits";
import { TrackingPlan } from "../../tracking/definition";
import { EnricherDefinition } from "../../enrichment/definition";
import { ModelUpload } from "../../models/definition";
import { BlockDefinition } from "../../content/definition";
import { SourceDefinition } from "../../sources/generic/definition";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });

const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
  instance: z.string(),
  requestId: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } });
const json = (description: string, s: object) => ({ description, content: { "application/json": { schema: s } } });

const ingest = (type: string, message: z.ZodType, summary: string) => ({
  post: {
    tags: ["Ingest"],
    summary,
    security: [{ writeKeyBasic: [] }, { writeKeyInBody: [] }],
    "x-rapport-scope": "write",
    requestBody: { required: true, content: { "application/json": { schema: schema(message) } } },
    responses: {
      "200": json("Durably queued", schema(IngestResponse)),
      "400": problem("Invalid message, nested too deeply, bad compression or not UTF-8 (kept in quarantine)"),
      "401": problem("No valid write key"),
      "413": problem("Over a size limit (named in `limit`)"),
      "503": problem("Queue unavailable; retry"),
    },
    "x-short-path": `/v1/${type[0]}`,
  },
});

const idParam = {
  name: "id",
  in: "path",
  required: true,
  description: "A userId, a master id (cus_…), `anonymous_id:<value>`, `email:<value>`, `phone:<value>`, `external:<type>:<id>` or `user_id:<value>`",
  schema: { type: "string" },
};

const read = (summary: string, ok: object) => ({
  get: {
    tags: ["Customers"],
    summary,
    security: [{ readKey: [] }, { adminKey: [] }],
    "x-rapport-scope": "read",
    parameters: [idParam],
    responses: { "200": ok, "401": problem("No valid read key (whether or not the customer exists)"), "404": problem("No such customer") },
  },
});

const privacy = (summary: string, ok: object) => ({
  tags: ["Privacy"],
  summary,
  security: [{ adminKey: [] }],
  "x-rapport-scope": "admin",
  parameters: [idParam],
  responses: { "200": ok, "401": problem("No valid admin key"), "404": problem("No such customer") },
});

const admin = (method: string, summary: string, responses: Record<string, object>, body?: z.ZodType, tag = "Admin") => ({
  [method]: { tags: [tag], summary, security: [{ adminKey: [] }], "x-rapport-scope": "admin", ...(body ? { requestBody: { required: true, content: { "application/json": { schema: schema(body) } } } } : {}), responses: { ...responses, "401": problem("No valid admin key") } },
});

export function handWrittenDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: { title: "Rapport API", version: "0.1.0", description: "Edge-native customer data and email personalization. Ingest is compatible with Segment's HTTP Tracking API." },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        writeKeyBasic: { type: "http", scheme: "basic", description: "Write key as the user name, empty password (as Segment SDKs send it)" },
        writeKeyInBody: { type: "apiKey", in: "header", name: "writeKey", description: "Or `writeKey` in the JSON body" },
        readKey: { type: "http", scheme: "bearer", description: "Read key (secret)" },
        adminKey: { type: "http", scheme: "bearer", description: "Admin key (secret)" },
      },
      schemas: { Problem: schema(Problem), CustomerProfile: schema(CustomerProfile), ApiKey: schema(ApiKeySchema), TriggerDefinition: schema(TriggerDefinition), SegmentDefinition: schema(SegmentDefinition), CustomTraitDefinition: schema(CustomTraitDefinition), ModelUpload: schema(ModelUpload) },
    },
    paths: {
      "/v1/track": ingest("track", TrackMessage, "Record an action"),
      "/v1/identify": ingest("identify", IdentifyMessage, "Identify a user and set traits"),
      "/v1/page": ingest("page", PageMessage, "Record a page view"),
      "/v1/screen": ingest("screen", ScreenMessage, "Record a screen view"),
      "/v1/group": ingest("group", GroupMessage, "Associate a user with a group"),
      "/v1/alias": ingest("alias", AliasMessage, "Link a previous id to a userId"),
      "/v1/batch": ingest("batch", BatchRequest, "Up to 2,500 messages (500 KB) in one request"),
      "/v1/import": { post: { ...ingest("batch", BatchRequest, "The same as /v1/batch (Segment's import path; `rapport import` uses it)").post, "x-short-path": undefined } },
      "/v1/customers/{id}": {
        ...read("A customer profile (for ESP merge tags)", { description: "The profile", headers: { ETag: { schema: { type: "string" } } }, content: { "application/json": { schema: { $ref: "#/components/schemas/CustomerProfile" } } } }),
        delete: { ...privacy("Erase a customer: profile, identities, events, snapshots; later events with its identifiers are dropped", json("What was erased", { type: "object" })), parameters: [idParam, { name: "reason", in: "query", schema: { type: "string" } }] },
      },
      "/customer/{id}": read("The same as GET /v1/customers/{id} (the design card's spelling): same key, body, ETag and errors", { description: "The profile", headers: { ETag: { schema: { type: "string" } } }, content: { "application/json": { schema: { $ref: "#/components/schemas/CustomerProfile" } } } }),
      "/v1/customers/{id}/merges": read("The customers merged into this one, with their causes", json("Merges", { type: "object", properties: { customerId: { type: "string" }, merges: { type: "array" } } })),
      "/v1/customers/{id}/export": { get: privacy("Everything held about a customer: profile and events", json("The export", { type: "object", properties: { profile: { $ref: "#/components/schemas/CustomerProfile" }, events: { type: "array" } } })) },
      "/v1/admin/merges/{mergedId}/unmerge": admin("post", "Undo a merge: restore the merged-away customer and derive both profiles again from their events", { "200": json("Unmerged", { type: "object" }), "404": problem("No such merge"), "409": problem("The profiles changed meanwhile; try again") }),
      "/v1/admin/duplicates/scan": admin("post", "Find likely duplicate profiles (sharing no identifier); merge the sure ones, keep the others for review", { "200": json("Scan result", { type: "object" }) }),
      "/v1/admin/duplicates": admin("get", "Duplicate candidates by status (?status=pending|merged|rejected)", { "200": json("Candidates", { type: "object" }) }),
      "/v1/admin/duplicates/{a}/{b}/merge": admin("post", "Merge a pending candidate pair", { "200": json("Merged", { type: "object" }), "404": problem("No pending candidate"), "409": problem("The identity rules refuse it") }),
      "/v1/admin/duplicates/{a}/{b}/reject": admin("post", "Reject a pending candidate pair: it is not proposed again", { "200": json("Rejected", { type: "object" }), "404": problem("No pending candidate") }),
      "/v1/admin/suppressions": admin("get", "Identifiers of erased customers, whose events are dropped", { "200": json("Suppressions", { type: "object" }) }),
      "/v1/admin/suppressions/{key}": admin("delete", "Lift a suppression: events with this identifier are accepted again", { "200": json("Lifted", { type: "object" }), "404": problem("No such suppression") }),
      "/v1/customers/lookup": {
        post: {
          tags: ["Customers"],
          summary: "Up to 100 customers in one call, by refs of any form (KV bulk reads); each ref is found or not found on its own",
          security: [{ readKey: [] }, { adminKey: [] }],
          "x-rapport-scope": "read",
          requestBody: { required: true, content: { "application/json": { schema: schema(z.object({ ids: z.array(z.string()).min(1).max(100) })) } } },
          responses: { "200": json("Results in the order asked: { ref, found, customer } or { ref, found: false, status: 404 }", { type: "object" }), "400": problem("Not 1 to 100 ids"), "401": problem("No valid read key") },
        },
      },
      "/v1/customers/{id}/events": read("A customer's stored events, newest first", json("A page of events", { type: "object", properties: { customerId: { type: "string" }, events: { type: "array" }, nextCursor: { type: ["string", "null"] } } })),
      "/v1/admin/keys": {
        ...admin("get", "List API keys", { "200": json("Keys", { type: "object", properties: { keys: { type: "array", items: { $ref: "#/components/schemas/ApiKey" } } } }) }),
        ...admin("post", "Create an API key (the secret is shown once)", { "201": json("The key and its secret", { allOf: [{ $ref: "#/components/schemas/ApiKey" }, { type: "object", properties: { secret: { type: "string" } } }] }), "400": problem("Invalid request") }, CreateKeyRequest),
      },
      "/v1/admin/keys/{id}": admin("delete", "Revoke an API key", { "200": json("The revoked key", { $ref: "#/components/schemas/ApiKey" }), "404": problem("No such key") }),
      "/v1/admin/computed-traits/backfill": admin("post", "Derive the computed traits of old profiles no event has touched since (a job; the daily cron starts it too)", { "202": json("Started, or nothing to do", { type: "object" }) }),
      "/v1/admin/data-quality": admin("get", "Quarantine by reason, traits that could not be normalized, profile completeness", { "200": json("The report", { type: "object" }) }),
      "/v1/admin/quarantine": admin("get", "Messages refused at ingest, with reason and raw payload", { "200": json("A page", { type: "object" }) }),
      "/v1/admin/dead-letters": admin("get", "Queue messages that exhausted their retries", { "200": json("A page", { type: "object" }) }),
      "/v1/admin/dead-letters/{id}": admin("get", "One dead letter", { "200": json("The dead letter", { type: "object" }), "404": problem("No such dead letter") }),
      "/v1/admin/dead-letters/{id}/replay": admin("post", "Put a dead letter back on the event queue", { "200": json("Replayed", { type: "object" }), "409": problem("Already replayed (use ?force=true)") }),
      "/v1/admin/dead-letters/replay": admin("post", "Replay every pending dead letter (up to ?limit)", { "200": json("Replayed", { type: "object" }) }),
      "/v1/segments": admin("get", "Segments (current versions) with their sizes", { "200": json("Segments", { type: "object" }) }, undefined, "Segments"),
      "/v1/segments/recipes": admin("get", "The shipped segments: high value, VIP, at risk, new prospects", { "200": json("Recipes", { type: "object" }) }, undefined, "Segments"),
      "/v1/segments/dry-run": admin("post", "How many profiles a draft rule would match now (nothing saved)", { "200": json("Matched, scanned, total, a sample", { type: "object" }), "400": problem("Invalid rule (field named)") }, z.object({ rule: Rule }), "Segments"),
      "/v1/segments/runs": {
        ...admin("get", "Recent evaluation passes over every profile, with their progress", { "200": json("Runs", { type: "object" }) }, undefined, "Segments"),
        ...admin("post", "Start an evaluation pass now", { "202": json("The run", { type: "object" }) }, undefined, "Segments"),
      },
      "/v1/segments/runs/{runId}": admin("get", "One evaluation pass (finishedAt is set when it is done)", { "200": json("The run", { type: "object" }), "404": problem("No such run") }, undefined, "Segments"),
      "/v1/segments/{id}": {
        ...admin("put", "Save a new version of a segment (If-Match: \"<version>\"); starts an evaluation pass", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid definition, a missing segment named, or a cycle"), "412": problem("Someone saved another version meanwhile") }, SegmentDefinition, "Segments"),
        ...admin("get", "A segment's current version and size", { "200": json("The segment", { type: "object" }), "404": problem("No such segment") }, undefined, "Segments"),
        ...admin("delete", "Delete a segment (its members go; its history stays)", { "204": { description: "Deleted" }, "404": problem("No such segment"), "409": problem("Other segments' rules name it") }, undefined, "Segments"),
      },
      "/v1/segments/{id}/versions": admin("get", "Every saved version of a segment, newest first", { "200": json("Versions", { type: "object" }), "404": problem("No such segment") }, undefined, "Segments"),
      "/v1/segments/{id}/rollback": admin("post", "Save an old version again as the newest", { "200": json("Saved", { type: "object" }), "404": problem("No such version") }, z.object({ version: z.number().int() }), "Segments"),
      "/v1/segments/{id}/members": admin("get", "Members by customer id (?limit, ?after = the previous page's next)", { "200": json("A page", { type: "object" }), "404": problem("No such segment") }, undefined, "Segments"),
      "/v1/segments/{id}/members/export": admin("get", "Every member as NDJSON (customerId, userId, email, enteredAt), streamed", { "200": { description: "application/x-ndjson" }, "404": problem("No such segment") }, undefined, "Segments"),
      "/v1/segments/{id}/history": admin("get", "Entries, exits and size per UTC day (?days, up to 365)", { "200": json("History", { type: "object" }), "404": problem("No such segment") }, undefined, "Segments"),
      "/v1/admin/archive": admin("get", "The raw event archive's objects of a day (?day=YYYY-MM-DD, ?cursor)", { "200": json("Objects", { type: "object" }) }, undefined, "Archive"),
      "/v1/admin/archive/replays": admin("post", "Replay the archived events of days of receipt through the pipeline (idempotent; erased customers stay erased)", { "202": json("The replay", { type: "object" }), "400": problem("Not two dates in order") }, z.object({ from: z.string(), to: z.string() }), "Archive"),
      "/v1/admin/archive/scrubs/{id}": admin("get", "An erasure's scrub of the archive: progress, and finished once every object of every day was read", { "200": json("The scrub", { type: "object" }), "404": problem("No such scrub") }, undefined, "Archive"),
      "/v1/admin/archive/replays/{id}": admin("get", "A replay's progress (finishedAt when done)", { "200": json("The replay", { type: "object" }), "404": problem("No such replay") }, undefined, "Archive"),
      "/v1/webhooks/shopify": {
        post: {
          tags: ["Sources"],
          summary: "Shopify webhooks (orders/create, orders/paid, checkouts/create, checkouts/update, customers/create, customers/update, products/update), verified with X-Shopify-Hmac-Sha256",
          security: [],
          "x-rapport-scope": "signed",
          requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
          responses: { "200": json("Accepted (or quarantined, with the reason)", { type: "object" }), "401": problem("The signature does not match") },
        },
      },
      "/v1/sources": admin("get", "Declared webhook sources (verification and field mappings)", { "200": json("Sources", { type: "object" }) }, undefined, "Sources"),
      "/v1/sources/{id}": {
        ...admin("put", "Declare a webhook source (If-Match: \"<version>\"); warns when a secret it names is not set", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid definition (field named)"), "412": problem("Someone saved another version meanwhile") }, SourceDefinition, "Sources"),
        ...admin("get", "One source", { "200": json("The source", { type: "object" }), "404": problem("No such source") }, undefined, "Sources"),
        ...admin("delete", "Delete a source: its webhook stops answering", { "204": { description: "Deleted" }, "404": problem("No such source") }, undefined, "Sources"),
      },
      "/v1/sources/{id}/webhook": {
        post: {
          tags: ["Sources"],
          summary: "Where the source's system sends: verified by the source's signature or token (no API key), items mapped to Segment events, unmappable ones quarantined",
          security: [],
          "x-rapport-scope": "signed",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
          responses: { "200": json("Accepted and quarantined counts", { type: "object" }), "401": problem("The signature or token does not verify"), "404": problem("No such source"), "413": problem("Over 1 MB"), "503": problem("The secret the source names is not configured") },
        },
      },
      "/v1/tracking-plans": admin("get", "Tracking plans: per source, a JSON Schema per event and what happens to unplanned events and violations", { "200": json("Plans", { type: "object" }) }, undefined, "Tracking plans"),
      "/v1/tracking-plans/violations": admin("get", "Events that broke their plan, newest first (?source, ?event, ?plan, ?since, ?limit, ?cursor)", { "200": json("A page and the next cursor", { type: "object" }) }, undefined, "Tracking plans"),
      "/v1/tracking-plans/violations/counts": admin("get", "Violating events counted per source and event name, by action, with the most frequent paths and rules (?source, ?event, ?plan, ?since)", { "200": json("Counts", { type: "object" }) }, undefined, "Tracking plans"),
      "/v1/tracking-plans/{id}": {
        ...admin("put", "Save a tracking plan (If-Match: \"<version>\"); applies at ingest within 30 s", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid plan or schema (field named)"), "409": problem("A source it names has another plan"), "412": problem("Someone saved another version meanwhile") }, TrackingPlan, "Tracking plans"),
        ...admin("get", "One tracking plan", { "200": json("The plan", { type: "object" }), "404": problem("No such plan") }, undefined, "Tracking plans"),
        ...admin("delete", "Delete a tracking plan: its sources are no longer checked", { "204": { description: "Deleted" }, "404": problem("No such plan") }, undefined, "Tracking plans"),
      },
      "/v1/tracking-plans/{id}/check": admin("post", "What the plan would do with a Segment message, without sending it", { "200": json("The action, the violations and the event as it would go on", { type: "object" }), "400": problem("Not a valid Segment message"), "404": problem("No such plan") }, undefined, "Tracking plans"),
      "/v1/enrichers": admin("get", "Third-party HTTP enrichers (looked up by email domain or email, answers marked and never over the customer's own values)", { "200": json("Enrichers", { type: "object" }) }, undefined, "Enrichment"),
      "/v1/enrichers/{id}": {
        ...admin("put", "Save an enricher (If-Match: \"<version>\"); applies to the customers of later batches within 30 s", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid definition (field named)"), "412": problem("Someone saved another version meanwhile") }, EnricherDefinition, "Enrichment"),
        ...admin("get", "One enricher", { "200": json("The enricher", { type: "object" }), "404": problem("No such enricher") }, undefined, "Enrichment"),
        ...admin("delete", "Delete an enricher (traits it supplied stay, marked)", { "204": { description: "Deleted" }, "404": problem("No such enricher") }, undefined, "Enrichment"),
      },
      "/v1/enrichers/{id}/test": admin("post", "Call the service once for a key, nothing cached or stored: to check the URL, secrets and mapping", { "200": json("found (with traits), not_found, or failed (with the reason)", { type: "object" }), "404": problem("No such enricher") }, z.object({ key: z.string() }), "Enrichment"),
      "/v1/computed-traits": admin("get", "Custom computed traits", { "200": json("Traits", { type: "object" }) }, undefined, "Segments"),
      "/v1/computed-traits/{id}": {
        ...admin("put", "Save a custom computed trait (If-Match: \"<version>\"); starts a pass that derives it for every profile", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid definition (field named)"), "412": problem("Someone saved another version meanwhile") }, CustomTraitDefinition, "Segments"),
        ...admin("get", "One custom computed trait", { "200": json("The trait", { type: "object" }), "404": problem("No such trait") }, undefined, "Segments"),
        ...admin("delete", "Delete a custom computed trait", { "204": { description: "Deleted" }, "404": problem("No such trait"), "409": problem("Segment rules name it") }, undefined, "Segments"),
      },
      "/v1/admin/models": admin("get", "The current predictive models (purchase_30d, churn_30d) with their held-out metrics", { "200": json("Models", { type: "object" }) }, undefined, "Predictions"),
      "/v1/admin/models/training-set": admin("get", "A page of the time-split training set (?cutoff, ?horizonDays, ?after, ?limit): features as of the cutoff, labels from the horizon after", { "200": json("Rows and next", { type: "object" }), "400": problem("The horizon has not passed") }, undefined, "Predictions"),
      "/v1/admin/models/{name}": admin("put", "Publish a trained model (npm run train does): a new version, applied to every profile write", { "201": json("Published", { type: "object" }), "400": problem("Not the worker's features, or invalid coefficients") }, ModelUpload, "Predictions"),
      "/v1/admin/models/{name}/versions": admin("get", "Every published version of a model", { "200": json("Versions", { type: "object" }) }, undefined, "Predictions"),
      "/v1/admin/models/{name}/drift": admin("get", "Score distribution per day and model version (?days): ten buckets, mean, count", { "200": json("Drift", { type: "object" }) }, undefined, "Predictions"),
      "/v1/admin/rfm": admin("get", "The population's RFM quintile cuts", { "200": json("Thresholds", { type: "object" }) }, undefined, "Predictions"),
      "/v1/admin/rfm/refresh": admin("post", "Recompute the RFM cuts now (the daily cron does)", { "200": json("Thresholds", { type: "object" }) }, undefined, "Predictions"),
      "/v1/catalog/products": admin("post", "Update products; price drops and restocks go to the customers who viewed them", { "202": json("Updated, and the changes found", { type: "object" }), "400": problem("Invalid update") }, CatalogUpdate, "Catalog"),
      "/v1/catalog/products/{id}": admin("get", "A product as the catalog holds it", { "200": json("The product", { type: "object" }), "404": problem("No such product") }, undefined, "Catalog"),
      "/v1/blocks": admin("get", "Content blocks: newest and published versions", { "200": json("Blocks", { type: "object" }) }, undefined, "Content"),
      "/v1/blocks/{id}": {
        ...admin("put", "Save a new version of a block, a draft (?publish=true also publishes it; If-Match: \"<version>\" guards against concurrent edits)", { "200": json("Saved", { type: "object" }), "201": json("Created", { type: "object" }), "400": problem("Invalid definition, or a template that does not parse (errors carry field, line and column)"), "412": problem("Someone saved another version meanwhile") }, BlockDefinition, "Content"),
        ...admin("get", "A block's newest version, and which version is published", { "200": json("The block", { type: "object" }), "404": problem("No such block") }, undefined, "Content"),
        ...admin("delete", "Stop serving a block (its history stays)", { "204": { description: "Deleted" }, "404": problem("No such block"), "409": problem("Published blocks render it") }, undefined, "Content"),
      },
      "/v1/blocks/{id}/versions": admin("get", "Every saved version of a block, newest first", { "200": json("Versions", { type: "object" }), "404": problem("No such block") }, undefined, "Content"),
      "/v1/blocks/{id}/publish": admin("post", "Serve a version (default: the newest)", { "200": json("Published", { type: "object" }), "400": problem("It renders blocks that are not published"), "404": problem("No such version") }, z.object({ version: z.number().int().optional() }), "Content"),
      "/v1/blocks/{id}/rollback": admin("post", "Serve an older version again", { "200": json("Published", { type: "object" }), "404": problem("No such version") }, z.object({ version: z.number().int() }), "Content"),
      "/v1/blocks/{id}/preview": admin("get", "Render any version for any customer (?customer, ?version, ?format=html|json|svg|png); X-Rapport-Fallback says why a fallback was served", { "200": { description: "The rendered block" }, "404": problem("No such block or version") }, undefined, "Content"),
      "/v1/blocks/{id}/links": admin("get", "The URLs to embed for a customer (?customer, ?ttl): token and signed forms, per format, and a click link", { "200": json("Links", { type: "object" }), "404": problem("No such customer") }, undefined, "Content"),
      "/tag.js": { get: { tags: ["Sources"], summary: "The storefront tag: a script that sends page views, identifies and track calls to the tracking API (docs/tag.md)", security: [], "x-rapport-scope": "public", responses: { "200": { description: "application/javascript" }, "304": { description: "Not modified (ETag)" } } } },
      "/preview": { get: { tags: ["Content"], summary: "A page to preview any block for any customer and format (asks for an admin key in the page)", security: [], "x-rapport-scope": "public", responses: { "200": { description: "text/html" } } } },
      "/docs": { get: { tags: ["Reference"], summary: "This API reference, as a page", security: [], "x-rapport-scope": "public", responses: { "200": { description: "text/html" } } } },
      "/openapi.json": { get: { tags: ["Reference"], summary: "This API reference, as OpenAPI 3.1", security: [], "x-rapport-scope": "public", responses: { "200": json("The document", { type: "object" }) } } },
      "/health": { get: { tags: ["Reference"], summary: "Liveness: answers when the worker runs", security: [], "x-rapport-scope": "public", responses: { "200": json("ok", { type: "object" }) } } },
      "/v1/content/{block}.{format}": {
        get: {
          tags: ["Content"],
          security: [],
          "x-rapport-scope": "signed",
          summary: "A block rendered for the customer the link names: html and json at send time (ESP connected content, AMP amp-list), svg and png at open time. Any failure serves the block's fallback (200).",
          parameters: [
            { name: "t", in: "query", description: "The customer's content token (profile `contentToken`)", schema: { type: "string" } },
            { name: "c", in: "query", description: "A customer ref, with `sig` (hex HMAC-SHA256 of `<block>:<c>:<exp>`) and optional `exp` (unix seconds)", schema: { type: "string" } },
            { name: "customer", in: "query", description: "A customer ref, with a read key only", schema: { type: "string" } },
          ],
          responses: { "200": { description: "The rendered block, or its fallback" }, "304": { description: "Not modified (ETag)" }, "404": problem("No such published block or format") },
        },
      },
      "/v1/r/{block}/{slot}": {
        get: {
          tags: ["Content"],
          security: [],
          "x-rapport-scope": "signed",
          summary: "Click-time link: the block's product in that slot as it is now (or the next, or the block's fallback URL); records an Email Link Clicked event",
          parameters: [{ name: "t", in: "query", description: "The customer's content token", schema: { type: "string" } }],
          responses: { "302": { description: "To the destination" }, "404": problem("No such published block") },
        },
      },
    },
  };
}
