/**
 * What the rest of the worker sees of a customer's CustomerSession Durable Object: its stub, one
 * per master customer id, and the types of its calls. The pipeline and the api call sessions
 * through this file only (the layer check allows it); the object itself is customer-session.ts.
 */
import type { StoredEvent } from "../model/events";
import type { CustomerProfile } from "../profiles/document";
import type { Trigger } from "../triggers/definition";

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
