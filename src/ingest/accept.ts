/**
 * Ingest's one job: validate messages, normalize the valid ones, keep the invalid ones with their
 * reason, and put both durably on the Queue before anyone is told "success".
 */
import { byteLength, isOverBytes, newId } from "../kernel/crypto";
import { cutToBytes, jsonPrefix } from "../model/json-prefix";
import { MAX_NESTING_DEPTH, tooDeepAt } from "../model/depth";
import type { EventType, RejectedMessage, StoredEvent } from "../model/events";
import { ApiError } from "../kernel/errors";
import type { FieldError } from "../kernel/errors";
import type { BodyRefused } from "../kernel/request-body";
import { fieldErrors } from "../kernel/field-errors";
import { log } from "../kernel/log";
import { MAX_KEPT_ESCAPED_BYTES, MAX_MESSAGE_BYTES, MAX_QUARANTINE_RAW_BYTES } from "./limits";
import { fieldPath } from "../kernel/field-errors";
import { normalizeMessage, type IngestContext } from "./normalize";
import { packEvents } from "./pack";
import { sendPacks } from "./send";
import type { BufferedRequest } from "./buffer";
import { placeOfHash } from "../queues/event-queues";
import { fnv1a32 } from "../kernel/fnv";
import { readConfig } from "../model/config";
import { EventTypeSchema, MESSAGE_SCHEMAS, type IngestResponse } from "./schemas";
import { governEvents } from "../tracking/govern";
import { withBelievableTime } from "./believable-time";

export interface ItemOutcome {
  index: number;
  messageId?: string;
  errors: FieldError[];
}

export interface AcceptResult {
  accepted: number;
  rejected: ItemOutcome[];
}

/**
 * Keeps at most 32 KB (UTF-8) of a refused payload; the quarantine row says when it was cut. `id`
 * is given when the payload has its own identity (a message quarantined by a tracking plan), so
 * that a client's retry keeps it once. Serialized without recursion: the payload may be the one
 * refused for nesting too deeply.
 */
export function rejection(endpoint: string, reason: string, errors: FieldError[], raw: unknown, id = newId("qr")): RejectedMessage {
  let kept = keptRaw(raw, MAX_QUARANTINE_RAW_BYTES);
  // The kept text travels escaped inside a pack; a payload of quotes or control characters grows
  // up to six times in JSON. Cut further rather than make a pack the queue would refuse.
  for (let limit = MAX_QUARANTINE_RAW_BYTES; byteLength(JSON.stringify(kept.text)) > MAX_KEPT_ESCAPED_BYTES; ) {
    limit = Math.floor(limit / 2);
    kept = { text: cutToBytes(kept.text, limit).text, truncated: true };
  }
  return { id, endpoint, reason, errors, raw: kept.text, truncated: kept.truncated };
}

const keptRaw = (raw: unknown, maxBytes: number) => (typeof raw === "string" ? cutToBytes(raw, maxBytes) : jsonPrefix(raw, maxBytes));

type Validated = { event: StoredEvent } | { errors: FieldError[]; reason: string };

/**
 * Validates one message of a known or declared type. `path` prefixes field names (`batch[3]`).
 * Returns the normalized event or the field errors; a promise only when the message id has to be
 * derived (a batch validates hundreds of messages, and most need no promise at all).
 */
export function validateOne(
  raw: unknown,
  declaredType: EventType | undefined,
  path: string,
  ctx: IngestContext,
): Validated | Promise<Validated> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { reason: "not_an_object", errors: [{ field: path || "(body)", message: "must be a JSON object" }] };
  }
  const tooDeep = tooDeepAt(raw, MAX_NESTING_DEPTH);
  if (tooDeep) {
    return { reason: "too_deep", errors: [{ field: fieldPath(tooDeep, path), message: `nests deeper than ${MAX_NESTING_DEPTH} levels (objects and arrays, the message counting as one)` }] };
  }
  if (isOverBytes(JSON.stringify(raw), MAX_MESSAGE_BYTES)) {
    return { reason: "message_too_large", errors: [{ field: path || "(body)", message: `is over the message limit of ${MAX_MESSAGE_BYTES / 1024} KB` }] };
  }
  let type = declaredType;
  if (!type) {
    const parsedType = EventTypeSchema.safeParse((raw as { type?: unknown }).type);
    if (!parsedType.success) {
      return { reason: "invalid_type", errors: [{ field: path ? `${path}.type` : "type", message: `must be one of ${EventTypeSchema.options.join(", ")}` }] };
    }
    type = parsedType.data;
  }
  const parsed = MESSAGE_SCHEMAS[type].safeParse(raw);
  if (!parsed.success) return { reason: "validation_failed", errors: fieldErrors(parsed.error, path) };
  const event = normalizeMessage(type, raw, parsed.data, ctx);
  return event instanceof Promise ? event.then((e) => ({ event: e })) : { event };
}

/** What the source's tracking plan found in the events, for the response (at most 100 listed). */
export type PlanOutcome = NonNullable<IngestResponse["trackingPlan"]>;

/** What went on the Queue: events accepted for profiles, those the tracking plan quarantined. */
export interface Enqueued {
  accepted: number;
  quarantined: number;
  plan?: PlanOutcome;
}

/**
 * Gives every event a believable time (believable-time.ts), checks the events against their
 * source's tracking plan, then sends events, rejections and violation records to the Queue, packed. Throws 503 if the Queue refuses.
 */
export async function enqueue(env: Env, events: StoredEvent[], rejected: RejectedMessage[], ctx: IngestContext, requestId: string): Promise<Enqueued> {
  const governed = await governEvents(env.DB, ctx.sourceId, events.map(withBelievableTime));
  const quarantined = governed.quarantined.map((q) => rejection(`tracking-plan/${governed.planId}`, "tracking_plan", q.errors, q.event, `qr_plan:${ctx.sourceId}:${q.event.messageId}`));
  const result: Enqueued = { accepted: governed.events.length, quarantined: quarantined.length };
  if (governed.events.length === 0 && rejected.length === 0 && quarantined.length === 0) return result;
  try {
    await send(env, { sourceId: ctx.sourceId, receivedAt: ctx.receivedAt.toISOString(), events: governed.events, rejected: [...rejected, ...quarantined], violations: governed.violations }, ctx.colo);
  } catch (err) {
    log("error", "ingest.queue_send_failed", { requestId, error: err instanceof Error ? err.message : String(err), messages: governed.events.length + rejected.length + quarantined.length });
    throw new ApiError("queue_unavailable", "The event queue did not accept the messages; nothing was acknowledged, retry later");
  }
  if (governed.violations.length === 0) return result;
  return { ...result, plan: { plan: governed.planId!, violations: governed.violations.slice(0, 100).map((v) => ({ messageId: v.messageId, action: v.action, violations: v.violations })) } };
}

/**
 * Puts a request's messages on an events queue: small requests through an ingest buffer that
 * packs them with others (ingest/buffer.ts), large ones (a pack's worth or more) directly. The
 * shopper's hash picks the buffer and the queue. A buffer that fails (overloaded, reset) is
 * bypassed: the messages go directly, and should the buffer have sent them after all, the
 * pipeline's messageId deduplication keeps them once.
 */
async function send(env: Env, request: BufferedRequest, colo: string | undefined): Promise<void> {
  const { ingestBuffers, ingestPackEvents, eventQueues } = readConfig(env);
  const first = request.events[0];
  const hash = fnv1a32(first?.anonymousId ?? first?.userId ?? request.rejected[0]?.id ?? "");
  const queue = placeOfHash(hash, eventQueues);
  const items = request.events.length + request.rejected.length;
  if (ingestBuffers > 0 && items < ingestPackEvents && env.INGEST_BUFFER) {
    const name = `${colo ?? "any"}:${placeOfHash(hash, ingestBuffers)}`;
    try {
      await env.INGEST_BUFFER.getByName(name).add(request, queue);
      return;
    } catch (err) {
      log("warn", "ingest.buffer_bypassed", { buffer: name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  await sendPacks(env, queue, packEvents(request.events, request.rejected, { sourceId: request.sourceId, receivedAt: request.receivedAt }, request.violations));
}

/**
 * The quarantine entry of a body refused before it could be parsed: its first bytes as text, or,
 * when they are not UTF-8 (compressed, or the reason itself), as `base64:` and their base64.
 */
export function bodyRejection(endpoint: string, refused: BodyRefused): RejectedMessage {
  let text: string;
  try {
    // `stream` leaves out a character cut at the end of the kept bytes.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(refused.kept, { stream: true });
  } catch {
    text = `base64:${base64Of(refused.kept)}`;
  }
  const kept = rejection(endpoint, refused.reason, refused.errors, text);
  // The body went on past what was kept, unless it was refused for its bytes alone.
  return { ...kept, truncated: kept.truncated || refused.reason === "too_large" };
}

function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
