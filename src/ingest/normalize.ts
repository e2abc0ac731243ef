/**
 * Turns a validated Segment message into a StoredEvent: message id, clock-skew-corrected
 * timestamp, batch-level context merged in.
 */
import { enrichContext, type EdgeFacts } from "./enrich";
import { sha256Hex } from "../kernel/crypto";
import type { EventType, Json, StoredEvent } from "../model/events";
import type { AnyMessage } from "./schemas";

export interface IngestContext {
  receivedAt: Date;
  sourceId: string;
  batchContext?: Json;
  batchIntegrations?: Json;
  batchSentAt?: string;
  /** Where a browser's request came from (ingest/enrich.ts), added where the client said nothing. */
  edge?: EdgeFacts | null;
  /** The Cloudflare location that took the request (`request.cf.colo`): its ingest buffers pack it. */
  colo?: string;
}

/**
 * Segment's correction for a client whose clock is off: the time between the call and the send,
 * measured on the client's clock, subtracted from when we received it.
 * `timestamp = receivedAt − (sentAt − originalTimestamp)`.
 * Without a `sentAt`, an explicit `timestamp` (or `originalTimestamp`) is taken as is: that is how
 * server libraries import historical events.
 */
export function correctTimestamp(m: { timestamp?: string; originalTimestamp?: string; sentAt?: string }, receivedAt: Date): string {
  const clientTime = m.originalTimestamp ?? m.timestamp;
  if (clientTime && m.sentAt) {
    const skewed = receivedAt.getTime() - (Date.parse(m.sentAt) - Date.parse(clientTime));
    return new Date(skewed).toISOString();
  }
  return new Date(clientTime ? Date.parse(clientTime) : receivedAt.getTime()).toISOString();
}

/**
 * A message without `messageId` gets one. When it carries its own time, the id is derived from
 * its content, so an SDK that retries the same payload is deduplicated; otherwise it is random.
 * Only the derived id is asynchronous (a hash): the common case costs no promise.
 */
export function ensureMessageId(raw: unknown, m: AnyMessage, sourceId: string): string | Promise<string> {
  if (m.messageId) return m.messageId;
  if (m.timestamp || m.originalTimestamp) return sha256Hex(`${sourceId}\n${JSON.stringify(raw)}`).then((hash) => `rp-${hash.slice(0, 32)}`);
  return `rp-${crypto.randomUUID()}`;
}

/**
 * `receivedAt` as ISO text. Every message of a request has the same one, and formatting a date is
 * not free (about 1% of ingest's CPU when done per message): the last one is remembered.
 */
let lastReceived: { at: Date; iso: string } | null = null;
function receivedIso(at: Date): string {
  if (lastReceived?.at !== at) lastReceived = { at, iso: at.toISOString() };
  return lastReceived.iso;
}

const STORED_FIELDS = ["userId", "anonymousId", "event", "name", "category", "groupId", "previousId", "properties", "traits"] as const;

export function normalizeMessage(type: EventType, raw: unknown, m: AnyMessage, ctx: IngestContext): StoredEvent | Promise<StoredEvent> {
  const messageId = ensureMessageId(raw, m, ctx.sourceId);
  return typeof messageId === "string" ? withMessageId(type, m, ctx, messageId) : messageId.then((id) => withMessageId(type, m, ctx, id));
}

function withMessageId(type: EventType, m: AnyMessage, ctx: IngestContext, messageId: string): StoredEvent {
  const sentAt = m.sentAt ?? ctx.batchSentAt;
  const receivedAt = receivedIso(ctx.receivedAt);
  const clientTime = m.originalTimestamp ?? m.timestamp;
  const event: StoredEvent = {
    messageId,
    type,
    // Without a client time, the event happened when it was received.
    timestamp: clientTime ? correctTimestamp({ timestamp: m.timestamp, originalTimestamp: m.originalTimestamp, sentAt }, ctx.receivedAt) : receivedAt,
    receivedAt,
    sourceId: ctx.sourceId,
  };
  const source = m as Record<string, unknown>;
  for (const field of STORED_FIELDS) {
    if (source[field] !== undefined) (event as unknown as Record<string, unknown>)[field] = source[field];
  }
  const context = enrichContext(ctx.batchContext ? { ...ctx.batchContext, ...m.context } : m.context, ctx.edge);
  if (context) event.context = context;
  const integrations = ctx.batchIntegrations || m.integrations ? { ...ctx.batchIntegrations, ...m.integrations } : undefined;
  if (integrations) event.integrations = integrations;
  if (clientTime) event.originalTimestamp = clientTime;
  if (sentAt) event.sentAt = sentAt;
  return event;
}
