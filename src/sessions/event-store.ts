/**
 * A customer's stored events, kept in the customer's own Durable Object (docs/scaling.md: events
 * left D1, whose account-wide storage cannot hold them at scale). Events are packed in chunks: a
 * call that stores any number of events writes one row (Durable Object storage bills per row
 * written). The messageIds in the chunks are the customer's dedupe marks, for as long as the
 * events are kept (EVENT_RETENTION_DAYS).
 *
 * Exactly once, with the profile in D1: every chunk has a sequence number, and the customer's D1
 * row holds the sequence of the last chunk applied to the profile (its watermark). `store` answers
 * every event of the chunks after the watermark, not only those it stored now: events an earlier
 * attempt stored, whose D1 commit never happened, are answered again and reach the profile once.
 * Chunks brought in already applied (a customer's events moving in from D1, or from a merged
 * customer's object) are `counted` and never answered as fresh.
 *
 * Retention goes by when a chunk was stored here (as D1's event chunks did): the object's alarm
 * comes when its oldest chunk expires. Events brought in from elsewhere (a row's, a merged
 * customer's object's) count as stored when they arrive: their retention starts again then.
 */
import type { StoredEvent } from "../model/events";

export const EVENT_CHUNKS_TABLE = `
CREATE TABLE IF NOT EXISTS event_chunks (
  seq INTEGER PRIMARY KEY,
  stored_at INTEGER NOT NULL,
  counted INTEGER NOT NULL,
  message_ids TEXT NOT NULL,
  events TEXT NOT NULL
);`;

/** Events that arrive already applied to a profile, from wherever they were kept before. */
export interface ChunkImport {
  events: StoredEvent[];
  /** Applied to the profile already (never answered as fresh), or to be applied. */
  counted: boolean;
}

export interface StoreOutcome {
  /**
   * Events of the chunks after the watermark, oldest chunk first, as a JSON array: the profile
   * applies these. Text, as stored: nothing parses it here (and a Durable Object call's result
   * must be serializable, which a parsed event's `unknown` properties are not to the type system).
   */
  freshJson: string;
  /** The last chunk's sequence: the watermark once the profile has applied `fresh`. */
  seq: number;
  /** Events stored by this call (not seen before). */
  stored: number;
}

/** JSON arrays joined into one: `[a]` and `[b,c]` give `[a,b,c]` (empty ones are skipped). */
const joinArrays = (arrays: readonly string[]) => `[${arrays.filter((a) => a !== "[]").map((a) => a.slice(1, -1)).join(",")}]`;

const byEventTime = (a: StoredEvent, b: StoredEvent) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0);

export class EventStore {
  /** Every stored messageId, read once per object activation (reading rows is cheap; writing is not). */
  #seen: Set<string> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    /** Adds rows written to the object's count. */
    private readonly onWrite: (rows: number) => void,
  ) {
    sql.exec(EVENT_CHUNKS_TABLE);
  }

  private get seen(): Set<string> {
    if (this.#seen === null) {
      this.#seen = new Set();
      for (const { message_ids } of this.sql.exec<{ message_ids: string }>("SELECT message_ids FROM event_chunks")) {
        for (const id of JSON.parse(message_ids) as string[]) this.#seen.add(id);
      }
    }
    return this.#seen;
  }

  /** The sequence of the last chunk (0: none). */
  get lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM event_chunks").one().seq ?? 0;
  }

  /** Stores the events not seen before as one chunk; answers every event after `watermark`. */
  store(events: readonly StoredEvent[], watermark: number, now: number): StoreOutcome {
    const stored = this.append(events, false, now, watermark);
    const texts = this.sql.exec<{ events: string }>("SELECT events FROM event_chunks WHERE seq > ? AND counted = 0 ORDER BY seq", watermark).toArray();
    return { freshJson: joinArrays(texts.map((r) => r.events)), seq: Math.max(this.lastSeq, watermark), stored };
  }

  /** Brings in events kept elsewhere until now; those seen already are skipped. */
  import(chunks: readonly ChunkImport[], now: number): number {
    return chunks.reduce((n, c) => n + this.append(c.events, c.counted, now), 0);
  }

  /** Every stored event, oldest first by event time. */
  all(): StoredEvent[] {
    return (JSON.parse(this.allJson()) as StoredEvent[]).sort(byEventTime);
  }

  /** Every stored event as one JSON array, in storing order. */
  allJson(): string {
    return joinArrays(this.sql.exec<{ events: string }>("SELECT events FROM event_chunks").toArray().map((r) => r.events));
  }

  /** When the oldest chunk that holds events was stored (null: none), for the retention alarm. */
  oldestStoredAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(stored_at) AS at FROM event_chunks WHERE events != '[]'").one().at;
  }

  /**
   * Deletes the chunks stored before `cutoff` (retention): their events and dedupe marks go. The
   * newest chunk, if expired, is emptied rather than deleted: its sequence must stay, or the next
   * chunk would take a number at or below the profile's watermark and never be answered.
   */
  deleteBefore(cutoff: number): number {
    const last = this.lastSeq;
    const written =
      this.sql.exec("DELETE FROM event_chunks WHERE stored_at < ? AND seq < ?", cutoff, last).rowsWritten +
      this.sql.exec("UPDATE event_chunks SET message_ids = '[]', events = '[]' WHERE seq = ? AND stored_at < ? AND events != '[]'", last, cutoff).rowsWritten;
    this.onWrite(written);
    if (written > 0) this.#seen = null;
    return written;
  }

  /** Which of these messageIds are in chunks the profile has applied (up to `watermark`, or brought in applied). */
  appliedOf(messageIds: readonly string[], watermark: number): string[] {
    const applied = new Set<string>();
    for (const { message_ids } of this.sql.exec<{ message_ids: string }>("SELECT message_ids FROM event_chunks WHERE seq <= ? OR counted = 1", watermark)) {
      for (const id of JSON.parse(message_ids) as string[]) applied.add(id);
    }
    return messageIds.filter((id) => applied.has(id));
  }

  /**
   * Takes these events out (an unmerge gives them back to the restored customer): each chunk that
   * holds one is rewritten without it. The newest chunk stays, emptied if need be, for its sequence.
   */
  forget(messageIds: readonly string[]): number {
    const gone = new Set(messageIds);
    const last = this.lastSeq;
    let written = 0;
    for (const chunk of this.sql.exec<{ seq: number; message_ids: string; events: string }>("SELECT seq, message_ids, events FROM event_chunks").toArray()) {
      const ids = JSON.parse(chunk.message_ids) as string[];
      if (!ids.some((id) => gone.has(id))) continue;
      const kept = (JSON.parse(chunk.events) as StoredEvent[]).filter((e) => !gone.has(e.messageId));
      written +=
        kept.length === 0 && chunk.seq !== last
          ? this.sql.exec("DELETE FROM event_chunks WHERE seq = ?", chunk.seq).rowsWritten
          : this.sql.exec("UPDATE event_chunks SET message_ids = ?, events = ? WHERE seq = ?", JSON.stringify(kept.map((e) => e.messageId)), JSON.stringify(kept), chunk.seq).rowsWritten;
    }
    this.onWrite(written);
    this.#seen = null;
    return written;
  }

  /** Deletes every stored event (they moved to a merge's survivor). */
  deleteAll(): number {
    const { rowsWritten } = this.sql.exec("DELETE FROM event_chunks");
    this.onWrite(rowsWritten);
    this.#seen = null;
    return rowsWritten;
  }

  /** Forgets what is held in memory (after the object's storage was deleted). */
  reset(): void {
    this.#seen = null;
    this.sql.exec(EVENT_CHUNKS_TABLE);
  }

  /**
   * One chunk of the events not seen before. Its sequence follows the last chunk's and the
   * watermark given (a profile never waits for a number it has already passed).
   */
  private append(events: readonly StoredEvent[], counted: boolean, storedAt: number, watermark = 0): number {
    const seen = this.seen;
    const ids = new Set<string>();
    const added = events.filter((e) => !seen.has(e.messageId) && !ids.has(e.messageId) && ids.add(e.messageId));
    if (added.length === 0) return 0;
    const { rowsWritten } = this.sql.exec(
      "INSERT INTO event_chunks (seq, stored_at, counted, message_ids, events) VALUES (?, ?, ?, ?, ?)",
      Math.max(this.lastSeq, watermark) + 1,
      storedAt,
      counted ? 1 : 0,
      JSON.stringify([...ids]),
      JSON.stringify(added),
    );
    this.onWrite(rowsWritten);
    // Marked seen once stored: a failed insert leaves them unseen.
    for (const id of ids) seen.add(id);
    return added.length;
  }
}
