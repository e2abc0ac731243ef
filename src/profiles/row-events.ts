/**
 * The events a customer row held before events moved into the customers' Durable Objects
 * (`customers.recent_events`, a JSON array; docs/scaling.md). The pipeline reads them once, to
 * hand them to the customer's object (pipeline/store-events.ts moveRowEvents), and empties the
 * row. A RowEvents is either the stored text, or a summary of it (its ids and length, read
 * instead of the text where nothing needs the events).
 */
import type { StoredEvent } from "../model/events";

const EMPTY = "[]";

export class RowEvents {
  #list: StoredEvent[] | null;
  #ids: readonly string[] | null;

  private constructor(
    /** The events as a JSON array, as stored; null when the text was left in D1. */
    private readonly text: string | null,
    list: StoredEvent[] | null,
    ids: readonly string[] | null,
    /** The text's length in UTF-16 code units. */
    readonly length: number,
    /** Whose stored text a summary describes. */
    readonly storedFor: string | null,
  ) {
    this.#list = list;
    this.#ids = ids;
  }

  static fromJson(json: string): RowEvents {
    return new RowEvents(json, null, null, json.length, null);
  }

  static empty(): RowEvents {
    return new RowEvents(EMPTY, [], [], EMPTY.length, null);
  }

  /** The stored text of customer `customerId`'s row, known by its ids and length, not read. */
  static stored(customerId: string, ids: readonly string[], length: number): RowEvents {
    return new RowEvents(null, null, ids, length, customerId);
  }

  /** Whether the text is here (false: only the stored row's ids and length are). */
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

  /** The events' message ids, in order. */
  get ids(): readonly string[] {
    this.#ids ??= this.list.map((e) => e.messageId);
    return this.#ids;
  }

  get isEmpty(): boolean {
    return this.length === EMPTY.length;
  }
}
