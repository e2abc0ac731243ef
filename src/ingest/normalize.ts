/**
 * Turns a validated Segment message into a StoredEvent: message id, clock-skew-corrected
 * timestamp, batch-level context merged in.
 */
import { enrichContext, type EdgeFacts } from "./enrich";
import { sha256Hex } from "../crypto";
import type { EventType, Json, StoredEvent } from "../events/types";
import type { AnyMessage } from "./schemas";

export interface IngestContext {
  receivedAt: Date;
  sourceId: string;
  batchContext?: Json;
  batchIntegrations?: Json;
  batchSentAt?: string;
  /** Where a browser's request came from (ingest/enrich.ts), added where the client said nothing. */
  edge?: EdgeFacts | null;
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
 */
export async function ensureMessageId(raw: unknown, m: AnyMessage, sourceId: string): Promise<string> {
  if (m.messageId) return m.messageId;
  if (m.timestamp || m.originalTimestamp) return `rp-${(await sha256Hex(`${sourceId}\n${JSON.stringify(raw)}`)).slice(0, 32)}`;
  return `rp-${crypto.randomUUID()}`;
}

const STORED_FIELDS = ["userId", "anonymousId", "event", "name", "category", "groupId", "previousId", "properties", "traits"] as const;

export async function normalizeMessage(type: EventType, raw: unknown, m: AnyMessage, ctx: IngestContext): Promise<StoredEvent> {
  const sentAt = m.sentAt ?? ctx.batchSentAt;
  const event: StoredEvent = {
    messageId: await ensureMessageId(raw, m, ctx.sourceId),
    type,
    timestamp: correctTimestamp({ timestamp: m.timestamp, originalTimestamp: m.originalTimestamp, sentAt }, ctx.receivedAt),
    receivedAt: ctx.receivedAt.toISOString(),
    sourceId: ctx.sourceId,
  };
  const source = m as Record<string, unknown>;
  for (const field of STORED_FIELDS) {
    if (source[field] !== undefined) (event as unknown as Record<string, unknown>)[field] = source[field];
  }
  const context = enrichContext(ctx.batchContext || m.context ? { ...ctx.batchContext, ...m.context } : undefined, ctx.edge);
  if (context) event.context = context;
  const integrations = ctx.batchIntegrations || m.integrations ? { ...ctx.batchIntegrations, ...m.integrations } : undefined;
  if (integrations) event.integrations = integrations;
  if (m.originalTimestamp ?? m.timestamp) event.originalTimestamp = m.originalTimestamp ?? m.timestamp;
  if (sentAt) event.sentAt = sentAt;
  return event;
}
