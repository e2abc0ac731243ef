/**
 * A customer row's latest events, kept as the JSON text D1 stores them in and parsed only when
 * something reads them. The pipeline needs two things from a returning customer's events: which
 * message ids it already has (the dedupe check) and the row's new text. Both come from the text:
 * new events are appended to it, and ids are found in it. Parsing and serializing again every
 * event of every returning customer (up to 48 KB a row) in every batch cost more than either.
 */
import type { StoredEvent } from "../events/types";

const ID_KEY = '"messageId":"';

export class RowEvents {
  #list: StoredEvent[] | null;

  private constructor(
    /** The events as a JSON array, as stored in `customers.recent_events`. */
    readonly json: string,
    list: StoredEvent[] | null,
  ) {
    this.#list = list;
  }

  static fromJson(json: string): RowEvents {
    return new RowEvents(json, null);
  }

  static of(list: StoredEvent[]): RowEvents {
    return new RowEvents(JSON.stringify(list), list);
  }

  static empty(): RowEvents {
    return new RowEvents("[]", []);
  }

  get list(): StoredEvent[] {
    return (this.#list ??= JSON.parse(this.json) as StoredEvent[]);
  }

  get isEmpty(): boolean {
    return this.json === "[]";
  }

  /**
   * Adds to `seen` the ids of `wanted` that these events have. Every event's id is in the text as
   * `"messageId":"…"` (JSON.stringify writes no spaces). So is any property of that name, so a
   * match in the text is only a candidate: when there is one, the parsed events decide.
   */
  collectSeen(wanted: ReadonlySet<string>, seen: Set<string>): void {
    let candidate = false;
    for (let at = this.json.indexOf(ID_KEY); at !== -1 && !candidate; at = this.json.indexOf(ID_KEY, at + 1)) {
      candidate = wanted.has(readString(this.json, at + ID_KEY.length));
    }
    if (!candidate) return;
    for (const e of this.list) if (wanted.has(e.messageId)) seen.add(e.messageId);
  }

  /**
   * The text with these serialized events added at the end: what `JSON.stringify([...list,
   * ...fresh])` gives, since the row's text is always JSON.stringify's (commitStatements).
   */
  appendedJson(freshJson: readonly string[]): string {
    if (freshJson.length === 0) return this.json;
    if (this.isEmpty) return `[${freshJson.join(",")}]`;
    return `${this.json.slice(0, -1)},${freshJson.join(",")}]`;
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
