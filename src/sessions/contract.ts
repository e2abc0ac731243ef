/**
 * What the rest of the worker sees of a customer's CustomerSession Durable Object: its stub, one
 * per master customer id, and the types of its calls. The pipeline and the api call sessions
 * through this file only (the layer check allows it); the object itself is customer-session.ts.
 */
import type { StoredEvent } from "../model/events";
import type { CustomerProfile } from "../profiles/document";
import type { Trigger } from "../triggers/definition";
import type { ChunkImport } from "./event-store";

export const sessionStub = (env: Env, customerId: string) => env.SESSIONS.getByName(customerId);

export interface IngestInput {
  customerId: string;
  events: StoredEvent[];
  /** The enabled triggers that concern these events. */
  triggers: Trigger[];
  /** The customer's profile document after this batch, when the customer has a KV snapshot. */
  document: CustomerProfile | null;
  /** Customers merged into this one in this batch: their objects are absorbed first. */
  absorb: string[];
  /**
   * The customer has a history before these events. An object that holds nothing yet (never
   * called before, see customers.session_at, or emptied) derives the session from it first.
   */
  seed?: boolean;
  /**
   * Triggers that could not reach this customer until this batch (an email arrived): their timers
   * start from the customer's stored events as well as from these (triggers/conditions.ts canReach).
   */
  replay?: Trigger[];
}

export interface IngestResult {
  /** Events applied (not seen before). */
  applied: number;
  /** Storage rows written by this call. */
  rowsWritten: number;
}

/**
 * A customer's events of one consumer batch, stored in its object before the D1 commit
 * (sessions/event-store.ts): the object deduplicates them against every event it keeps and
 * answers the events the profile has not applied yet.
 */
export interface StoreInput {
  customerId: string;
  events: StoredEvent[];
  /** The sequence of the last chunk the customer's D1 row has applied (0: none). */
  watermark: number;
  /** The pipeline's time (ms): when the chunk counts as stored, for its retention. Default: the object's clock. */
  now?: number;
  /** Events kept elsewhere until now (a row's events in D1, from before they moved here). */
  imports?: ChunkImport[];
  /** Customers merged into this one earlier whose objects still hold their events: taken in first. */
  absorb?: string[];
  /**
   * Customers this batch merges into this one, with their watermarks: events one of them has
   * applied already are not new to the merged profile (its object moves here after the commit).
   */
  appliedBy?: { customerId: string; watermark: number }[];
}

export interface StoreResult {
  /**
   * Events to apply to the profile, as a JSON array: this batch's new ones, and any an earlier
   * attempt stored but never applied.
   */
  freshJson: string;
  /** The new watermark, once the profile has applied `fresh`. */
  seq: number;
  /** Events stored by this call. */
  stored: number;
  rowsWritten: number;
}
