/**
 * The Segment-compatible HTTP Tracking API: `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`,
 * `/v1/group`, `/v1/alias`, `/v1/batch` (and `/v1/import`), plus the one-letter paths analytics.js
 * posts to (`/v1/t`, `/v1/i`, `/v1/p`, `/v1/s`, `/v1/g`, `/v1/a`). Existing Segment and
 * RudderStack SDKs pointed at this host work unchanged.
 */
import { edgeFacts } from "./enrich";
import type { Context } from "hono";
import { cors } from "hono/cors";
import type { z } from "zod";
import type { App } from "../api/app";
import { type RouteSpec, route } from "../api/route";
import { EVENT_TYPES, type EventType, type RejectedMessage, type StoredEvent } from "../model/events";
import { authenticate, keyFromAuthorization } from "../api/auth";
import { BodyRefused, readBodyText } from "../kernel/request-body";
import { clientAddress, enforceRateLimit } from "../api/rate-limit";
import type { AppEnv } from "../api/context";
import { ApiError } from "../kernel/errors";
import { fieldErrors, fieldPath } from "../kernel/field-errors";
import { MAX_NESTING_DEPTH, tooDeepAt } from "../model/depth";
import { parseJsonExact } from "../model/exact-json";
import type { ApiKey } from "../keys/store";
import { bodyRejection, enqueue, rejection, validateOne, type Enqueued, type ItemOutcome } from "./accept";
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES } from "./limits";
import type { IngestContext } from "./normalize";
import { AliasMessage, BatchRequest, GroupMessage, IdentifyMessage, IngestResponse, PageMessage, ScreenMessage, TrackMessage } from "./schemas";

export const INGEST_PATHS = [
  ...EVENT_TYPES.map((t) => `/v1/${t}`),
  ...EVENT_TYPES.map((t) => `/v1/${t[0]}`),
  "/v1/batch",
  "/v1/import",
];

/** Storefronts call ingest from the browser; write keys are public, so any origin may. */
const ingestCors = cors({
  origin: "*",
  allowMethods: ["POST", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "Content-Encoding"],
  exposeHeaders: ["X-Request-Id"],
  maxAge: 86_400,
});

const MESSAGES: Record<EventType, { schema: z.ZodType; summary: string }> = {
  track: { schema: TrackMessage, summary: "Record an action" },
  identify: { schema: IdentifyMessage, summary: "Identify a user and set traits" },
  page: { schema: PageMessage, summary: "Record a page view" },
  screen: { schema: ScreenMessage, summary: "Record a screen view" },
  group: { schema: GroupMessage, summary: "Associate a user with a group" },
  alias: { schema: AliasMessage, summary: "Link a previous id to a userId" },
};

/** Ingest reads its body itself: compressed, bounded, kept in quarantine when refused. */
const ingestSpec = (path: string, schema: z.ZodType, summary: string, aliases: string[] = []): RouteSpec<undefined, undefined, undefined> => ({
  method: "post",
  path,
  aliases,
  tag: "Ingest",
  scope: "write",
  summary,
  rawBody: { schema },
  responses: {
    200: { description: "Durably queued", schema: IngestResponse },
    400: "Invalid message, nested too deeply, bad compression or not UTF-8 (kept in quarantine)",
    401: "No valid write key",
    413: "Over a size limit (named in `limit`)",
    503: "Queue unavailable; retry",
  },
});

export function registerIngestRoutes(app: App): void {
  for (const path of INGEST_PATHS) app.use(path, ingestCors);
  for (const type of EVENT_TYPES) route(app, ingestSpec(`/v1/${type}`, MESSAGES[type].schema, MESSAGES[type].summary, [`/v1/${type[0]}`]), (c) => ingestSingle(c, type));
  route(app, ingestSpec("/v1/batch", BatchRequest, "Up to 2,500 messages (500 KB) in one request"), ingestBatch);
  route(app, ingestSpec("/v1/import", BatchRequest, "The same as /v1/batch (Segment's import path; `rapport import` uses it)"), ingestBatch);
}

/**
 * Authenticates from the header first (before reading the body) or from `writeKey` in it. A body
 * refused before it could be parsed (over a limit, bad compression, not UTF-8) is quarantined
 * (its first 32 KB) when the header's key says whose it is.
 */
async function readAuthenticated(c: Context<AppEnv>, endpoint: string, limitBytes: number, limitName: string): Promise<{ key: ApiKey; body: unknown; text: string } | { key: ApiKey; parseError: string; text: string }> {
  const headerKey = keyFromAuthorization(c.req.header("authorization"));
  const keyFromHeader = headerKey ? await authenticate(c.env, headerKey, ["write"]) : null;
  // Limited before the body is read when the key is in the header (as SDKs send it).
  if (keyFromHeader) await enforceRateLimit(c.env.INGEST_LIMITER, `${keyFromHeader.id}:${clientAddress(c.req.raw.headers)}`, "ingest");
  let text: string;
  try {
    text = await readBodyText(c.req.raw, limitBytes, limitName);
  } catch (err) {
    if (err instanceof BodyRefused && keyFromHeader) await enqueue(c.env, [], [bodyRejection(endpoint, err)], ingestContext(c, keyFromHeader), c.get("requestId"));
    throw err;
  }
  let body: unknown;
  try {
    body = parseJsonExact(text);
  } catch (err) {
    if (!keyFromHeader) throw new ApiError("bad_request", "The body is not valid JSON", [{ field: "(body)", message: "must be valid JSON" }]);
    return { key: keyFromHeader, parseError: err instanceof Error ? err.message : "invalid JSON", text };
  }
  const writeKey = typeof body === "object" && body !== null ? (body as { writeKey?: unknown }).writeKey : undefined;
  if (keyFromHeader) return { key: keyFromHeader, body, text };
  const key = await authenticate(c.env, typeof writeKey === "string" ? writeKey : null, ["write"]);
  await enforceRateLimit(c.env.INGEST_LIMITER, `${key.id}:${clientAddress(c.req.raw.headers)}`, "ingest");
  return { key, body, text };
}

function ingestContext(c: Context<AppEnv>, key: ApiKey, extra: Partial<IngestContext> = {}): IngestContext {
  const cf = c.req.raw.cf as Record<string, unknown> | undefined;
  const edge = edgeFacts(cf, c.req.header("origin"));
  const colo = typeof cf?.colo === "string" ? cf.colo : undefined;
  return { receivedAt: new Date(), sourceId: key.id, edge, ...(colo ? { colo } : {}), ...extra };
}

async function ingestSingle(c: Context<AppEnv>, type: EventType) {
  const endpoint = `/v1/${type}`;
  const read = await readAuthenticated(c, endpoint, MAX_MESSAGE_BYTES, "message");
  const ctx = ingestContext(c, read.key);
  if ("parseError" in read) {
    const errors = [{ field: "(body)", message: "must be valid JSON" }];
    await enqueue(c.env, [], [rejection(endpoint, "invalid_json", errors, read.text)], ctx, c.get("requestId"));
    throw new ApiError("bad_request", `The body is not valid JSON (${read.parseError}); it was kept in quarantine`, errors);
  }
  const outcome = await validateOne(read.body, type, "", ctx);
  if ("errors" in outcome) {
    await enqueue(c.env, [], [rejection(endpoint, outcome.reason, outcome.errors, read.body)], ctx, c.get("requestId"));
    throw new ApiError("validation_failed", `The ${type} message is invalid: ${outcome.errors.map((e) => `${e.field} ${e.message}`).join("; ")}; it was kept in quarantine`, outcome.errors);
  }
  const queued = await enqueue(c.env, [outcome.event], [], ctx, c.get("requestId"));
  return c.json(ingestResponse(queued, 0));
}

async function ingestBatch(c: Context<AppEnv>) {
  const endpoint = "/v1/batch";
  const read = await readAuthenticated(c, endpoint, MAX_BATCH_BYTES, "batch");
  const requestId = c.get("requestId");
  if ("parseError" in read) {
    const errors = [{ field: "(body)", message: "must be valid JSON" }];
    await enqueue(c.env, [], [rejection(endpoint, "invalid_json", errors, read.text)], ingestContext(c, read.key), requestId);
    throw new ApiError("bad_request", `The body is not valid JSON (${read.parseError}); it was kept in quarantine`, errors);
  }
  // The batch's own context and integrations are merged into every item: the same depth limit.
  const envelopeTooDeep = isPlainObject(read.body) ? tooDeepAt({ ...read.body, batch: [] }, MAX_NESTING_DEPTH) : null;
  if (envelopeTooDeep) {
    const errors = [{ field: fieldPath(envelopeTooDeep), message: `nests deeper than ${MAX_NESTING_DEPTH} levels` }];
    await enqueue(c.env, [], [rejection(endpoint, "too_deep", errors, read.body)], ingestContext(c, read.key), requestId);
    throw new ApiError("validation_failed", "The batch envelope nests too deeply; it was kept in quarantine", errors);
  }
  const parsed = BatchRequest.safeParse(read.body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    await enqueue(c.env, [], [rejection(endpoint, "validation_failed", errors, read.body)], ingestContext(c, read.key), requestId);
    throw new ApiError("validation_failed", "The batch envelope is invalid; it was kept in quarantine", errors);
  }
  const request = parsed.data;
  if (request.batch.length > MAX_BATCH_MESSAGES) {
    const errors = [{ field: "batch", message: `must have at most ${MAX_BATCH_MESSAGES} messages` }];
    await enqueue(c.env, [], [rejection(endpoint, "too_many_messages", errors, read.text)], ingestContext(c, read.key), requestId);
    throw new ApiError("payload_too_large", `The batch has ${request.batch.length} messages; the limit is ${MAX_BATCH_MESSAGES} messages per batch (its first 32 KB were kept in quarantine)`, errors, { limit: "messages_per_batch", limitMessages: MAX_BATCH_MESSAGES });
  }
  const ctx = ingestContext(c, read.key, { batchContext: request.context, batchIntegrations: request.integrations, batchSentAt: request.sentAt });
  const events: StoredEvent[] = [];
  const rejected: RejectedMessage[] = [];
  const outcomes: ItemOutcome[] = [];
  // Validate concurrently (message ids may need hashing) but keep the batch's order.
  const results = await Promise.all(request.batch.map((item, index) => validateOne(item, undefined, `batch[${index}]`, ctx)));
  results.forEach((outcome, index) => {
    if ("event" in outcome) {
      events.push(outcome.event);
      return;
    }
    const item = request.batch[index];
    rejected.push(rejection(endpoint, outcome.reason, outcome.errors, item));
    const messageId = (item as { messageId?: unknown } | null)?.messageId;
    outcomes.push({ index, ...(typeof messageId === "string" ? { messageId } : {}), errors: outcome.errors });
  });
  const queued = await enqueue(c.env, events, rejected, ctx, requestId);
  if (events.length === 0 && outcomes.length > 0) {
    throw new ApiError("validation_failed", `None of the ${outcomes.length} messages is valid; they were kept in quarantine`, outcomes.flatMap((o) => o.errors), { rejected: outcomes });
  }
  return c.json({ ...ingestResponse(queued, outcomes.length), ...(outcomes.length > 0 ? { rejected: outcomes } : {}) });
}

/** Accepted messages go on to profiles; quarantined ones (invalid, or by the tracking plan) are kept instead. */
function ingestResponse(queued: Enqueued, invalid: number) {
  return { success: true as const, accepted: queued.accepted, quarantined: queued.quarantined + invalid, ...(queued.plan ? { trackingPlan: queued.plan } : {}) };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
