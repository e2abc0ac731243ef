/**
 * The events a customer row held before events moved into the customers' Durable Objects
 * (`customers.recent_events`, a JSON array; docs/scaling.md). The pipeline reads them once, to
 * hand them to the customer's object (pipeline/store-events.ts moveRowEvents), and empties the
 * row. A RowEvents is the stored text, or a marker that the text was left in D1 (the pipeline
 * reads profiles without it: most rows hold none, and rowHeldEvents reads it where it is needed).
 */
import type { StoredEvent } from "../model/events";

export class RowEvents {
  #list: StoredEvent[] | null = null;

  private constructor(
    /** The events as a JSON array, as stored; null when the text was left in D1. */
    private readonly text: string | null,
    /** Whose row's text was left in D1. */
    private readonly storedFor: string | null,
  ) {}

  static fromJson(json: string): RowEvents {
    return new RowEvents(json, null);
  }

  static empty(): RowEvents {
    return new RowEvents("[]", null);
  }

  /** Customer `customerId`'s row text, not read. */
  static stored(customerId: string): RowEvents {
    return new RowEvents(null, customerId);
  }

  /** Whether the text is here. */
  get isLoaded(): boolean {
    return this.text !== null;
  }

  get json(): string {
    if (this.text === null) throw new Error(`The events of customer ${this.storedFor} were not read`);
    return this.text;
  }

  get list(): StoredEvent[] {
    this.#list ??= JSON.parse(this.json) as StoredEvent[];
    return this.#list;
  }
}
