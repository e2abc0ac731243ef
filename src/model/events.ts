/**
 * The event model shared by ingest (producer) and the pipeline (consumer): what travels on the
 * Queue and what is stored in packed event chunks.
 */
import type { FieldError } from "../kernel/errors";

export const EVENT_TYPES = ["track", "identify", "page", "screen", "group", "alias"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type Json = Record<string, unknown>;

/** A validated, normalized Segment message as Rapport stores it. Times are ISO-8601 strings. */
export interface StoredEvent {
  messageId: string;
  type: EventType;
  userId?: string;
  anonymousId?: string;
  event?: string;
  name?: string;
  category?: string;
  groupId?: string;
  previousId?: string;
  properties?: Json;
  traits?: Json;
  context?: Json;
  integrations?: Json;
  /** Event time, corrected for client clock skew. */
  timestamp: string;
  originalTimestamp?: string;
  sentAt?: string;
  receivedAt: string;
  /**
   * Who sent it: the write key's id, `shopify`, `source:<id>` of a declared source, or one of
   * Rapport's own (INTERNAL_SOURCE_PREFIX: email clicks, enrichers' answers).
   */
  sourceId: string;
}

/** Source ids no client can have: events Rapport itself makes (`rapport-content`, `rapport-enricher:<id>`). */
export const INTERNAL_SOURCE_PREFIX = "rapport-";
export const isInternalSource = (sourceId: string) => sourceId.startsWith(INTERNAL_SOURCE_PREFIX);

/** The source enriched values are marked with: in the profile's `traitSources` and events' sourceId. */
export const enricherSource = (id: string) => `enricher:${id}`;
/** The sourceId of the identify events that carry an enricher's values (clients cannot send it). */
export const ENRICHER_SOURCE_PREFIX = `${INTERNAL_SOURCE_PREFIX}enricher:`;
export const enricherSourceId = (id: string) => `${ENRICHER_SOURCE_PREFIX}${id}`;
/** Is this event an enricher's answer (not something the customer did)? */
export const isEnrichment = (e: { sourceId: string }) => e.sourceId.startsWith(ENRICHER_SOURCE_PREFIX);


/** A message refused at ingest, kept with its reason so nothing is lost silently. */
export interface RejectedMessage {
  id: string;
  endpoint: string;
  reason: string;
  errors: FieldError[];
  raw: string;
  truncated: boolean;
}

/** One Queue message: several events packed together, because Queues bill per message. */
export interface EventPack {
  v: 1;
  packId: string;
  receivedAt: string;
  sourceId: string;
  events: StoredEvent[];
  rejected: RejectedMessage[];
  /** Events that broke their source's tracking plan (tracking/check.ts), to record. */
  violations?: ViolationRecord[];
}

export interface Violation {
  /** Where in the event: `properties.price`, `traits.email`, `properties.products[0].sku`, `event`. */
  path: string;
  /** The JSON Schema keyword that failed (`type`, `required`, `format`…), or `unplanned`. */
  rule: string;
  message: string;
}

export type ViolationAction = "allowed" | "flagged" | "dropped" | "quarantined";

/** What the pipeline records for an event that broke its plan (one row per event). */
export interface ViolationRecord {
  sourceId: string;
  messageId: string;
  receivedAt: string;
  planId: string;
  planVersion: number;
  eventName: string;
  action: ViolationAction;
  unplanned: boolean;
  violations: Violation[];
}
