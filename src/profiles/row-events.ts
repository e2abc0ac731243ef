/**
 * A customer row's latest events (`customers.recent_events`, a JSON array). The pipeline needs two
 * things from a returning customer's events: which message ids it already has (the dedupe check)
 * and room to add the new ones. Neither needs the events themselves, so the pipeline reads a row's
 * ids and length only (`recent_ids`, `recent_length`) and appends new events in SQL: the text,
 * up to 48 KB a row, neither crosses the D1 binding twice per batch nor gets parsed. A RowEvents
 * is either that summary of the stored text, or the text itself (read for a merge, for moving
 * events to chunks, from rows written before the summary existed, or built in memory).
 */
import type { StoredEvent } from "../model/events";

const ID_KEY = '"messageId":"';
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
    /** Whose stored text a summary describes: only that row's text can be appended to. */
    readonly storedFor: string | null,
  ) {
    this.#list = list;
    this.#ids = ids;
  }

  static fromJson(json: string): RowEvents {
    return new RowEvents(json, null, null, json.length, null);
  }

  static of(list: StoredEvent[]): RowEvents {
    const json = JSON.stringify(list);
    return new RowEvents(json, list, null, json.length, null);
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

  /**
   * Adds to `seen` the ids of `wanted` that these events have. A summary has the ids. In a text,
   * every event's id is there as `"messageId":"…"` (JSON.stringify writes no spaces); so is any
   * property of that name, so a match in the text is only a candidate: then the parsed events decide.
   */
  collectSeen(wanted: ReadonlySet<string>, seen: Set<string>): void {
    if (this.#ids) {
      for (const id of this.#ids) if (wanted.has(id)) seen.add(id);
      return;
    }
    const json = this.json;
    let candidate = false;
    for (let at = json.indexOf(ID_KEY); at !== -1 && !candidate; at = json.indexOf(ID_KEY, at + 1)) {
      candidate = wanted.has(readString(json, at + ID_KEY.length));
    }
    if (!candidate) return;
    for (const e of this.list) if (wanted.has(e.messageId)) seen.add(e.messageId);
  }

  /**
   * The length of the text once new events are appended, given the length of their JSON array
   * (`eventsJsonLength`): what `appendedJson` gives, and what SQL's append (profiles/store.ts)
   * stores.
   */
  appendedLength(freshLength: number): number {
    if (freshLength === EMPTY.length) return this.length;
    if (this.isEmpty) return freshLength;
    return this.length + freshLength - 1;
  }

  /**
   * The text with `fresh` (a JSON array of new events) appended: what `JSON.stringify([...list,
   * ...fresh])` gives, since a row's text is always JSON.stringify's (commitStatements).
   */
  appendedJson(fresh: string): string {
    if (fresh === EMPTY) return this.json;
    if (this.isEmpty) return fresh;
    return `${this.json.slice(0, -1)},${fresh.slice(1)}`;
  }
}

/** The JSON string value whose content starts at `start` (just after its opening quote), decoded. */
function readString(text: string, start: number): string {
  let end = start;
  let escaped = false;
  for (; end < text.length; end++) {
    const ch = text.charCodeAt(end);
    if (ch === 92 /* \ */) {
      escaped = true;
      end++;
    } else if (ch === 34 /* " */) break;
  }
  const raw = text.slice(start, end);
  return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
}
