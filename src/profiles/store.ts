/**
 * D1 reads and writes of profiles, identities and stored events. The pipeline reads with these
 * (drizzle), computes the new state in memory, and commits every customer of a batch with a
 * handful of multi-row statements in one D1 batch (a transaction). Those statements are plain SQL:
 * each carries its rows as one JSON parameter expanded by `json_each`, which drizzle's builder
 * cannot express, and which keeps a thousand customers under D1's 100-parameter limit. A row's
 * events (its large text) are bound as parameters of their own, up to 99 rows per statement
 * (see RowWithText). The pipeline appends a returning customer's new events to its row in SQL
 * (RowEvents: it reads the row's event ids and length, not its events).
 */
import { suppressionHashes } from "../kernel/suppression-hash";
import type { ComputedState } from "./computed";
import type { Aggregates } from "./aggregates";
import type { Membership } from "../model/membership";
import type { Scores } from "../model/scores";
import { eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { database } from "../db/client";
import { customers, eventChunks, identities, suppressions } from "../db/schema";
import type { Statement } from "../db/statements";
import type { StoredEvent } from "../model/events";
import { eventJson, eventsJson, eventsJsonLength } from "../model/event-json";
import { identityFromKey, type Identity } from "../model/identity";
import type { Counters, ProfileState } from "./apply";
import { RowEvents } from "./row-events";

export interface StoredProfile {
  id: string;
  state: ProfileState;
  identities: Identity[];
  /** The events kept in the row (the latest; older ones are in event_chunks), or their summary. */
  recentEvents: RowEvents;
  chunkCount: number;
  /** Segment memberships (segments/membership.ts). */
  segments: Membership;
  /** Predictive scores as of the last write (null before any model was published). */
  scores: Scores | null;
  version: number;
  servedAt: number | null;
  /** When its CustomerSession object started (null: never; see the schema). */
  sessionAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A customer's latest events stay in its row up to this size, then move to event_chunks. */
export const RECENT_EVENTS_MAX_BYTES = 48 * 1024;
/** D1 values may be 1 MB; rows sent as one JSON parameter stay under this. */
const MAX_PARAM_BYTES = 900 * 1024;
/** One event_chunks row holds at most this much. */
const MAX_CHUNK_BYTES = 512 * 1024;

/** `IN (SELECT value FROM json_each(?))` takes any number of values in one bound parameter. */
const jsonList = (values: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;

export async function loadOwners(d1: D1Database, keys: readonly string[]): Promise<Map<string, string>> {
  const db = database(d1);
  if (keys.length === 0) return new Map();
  const rows = await db.select({ key: identities.key, customerId: identities.customerId }).from(identities).where(sql`${identities.key} IN ${jsonList(keys)}`).all();
  return new Map(rows.map((r) => [r.key, r.customerId]));
}

/** Which of these identity keys belong to erased customers. */
/**
 * Which of these identity keys an erasure suppressed: looked up by their keyed hashes under every
 * secret (privacy/suppression-hash.ts), and as themselves for rows from before hashing.
 */
export async function loadSuppressed(d1: D1Database, keys: readonly string[], secrets: readonly string[]): Promise<Set<string>> {
  const db = database(d1);
  if (keys.length === 0) return new Set();
  const keyOf = new Map<string, string>(keys.map((k) => [k, k]));
  for (const k of keys) for (const h of suppressionHashes(secrets, k)) keyOf.set(h, k);
  const rows = await db.select({ key: suppressions.key }).from(suppressions).where(sql`${suppressions.key} IN ${jsonList([...keyOf.keys()])}`).all();
  return new Set(rows.map((r) => keyOf.get(r.key)!));
}

/**
 * Profiles by id. With `events: "summary"` (the pipeline), a row's events stay in D1: the profile
 * carries their ids and length (RowEvents.stored), and rows written before those existed their text.
 */
export async function loadProfiles(d1: D1Database, ids: readonly string[], { events = "text" }: { events?: "text" | "summary" } = {}): Promise<Map<string, StoredProfile>> {
  const db = database(d1);
  if (ids.length === 0) return new Map();
  if (events === "text") {
    const rows = await db.select().from(customers).where(sql`${customers.id} IN ${jsonList(ids)}`).all();
    return new Map(rows.map((r) => [r.id, withEventsText(r)]));
  }
  const { recentEvents: _text, ...columns } = getTableColumns(customers);
  const rows = await db
    .select({ ...columns, unsummarized: sql<string | null>`CASE WHEN ${customers.recentIds} IS NULL OR ${customers.recentLength} IS NULL THEN ${customers.recentEvents} END` })
    .from(customers)
    .where(sql`${customers.id} IN ${jsonList(ids)}`)
    .all();
  return new Map(rows.map((r) => [r.id, toStoredProfile(r, r.unsummarized !== null ? RowEvents.fromJson(r.unsummarized) : RowEvents.stored(r.id, JSON.parse(r.recentIds!) as string[], r.recentLength!))]));
}

/**
 * The events text of these customers' rows (for profiles that carry a summary of them). A row gone
 * since the profile was read is a concurrent write: the error makes the pipeline read again.
 */
export async function loadRowEvents(d1: D1Database, ids: readonly string[]): Promise<Map<string, RowEvents>> {
  const db = database(d1);
  const wanted = new Set(ids);
  if (wanted.size === 0) return new Map();
  const rows = await db.select({ id: customers.id, recentEvents: customers.recentEvents }).from(customers).where(sql`${customers.id} IN ${jsonList([...wanted])}`).all();
  if (rows.length < wanted.size) throw new Error("A customer vanished while processing; rapport_version_conflict");
  return new Map(rows.map((r) => [r.id, RowEvents.fromJson(r.recentEvents)]));
}

export async function loadProfile(d1: D1Database, id: string): Promise<StoredProfile | null> {
  const db = database(d1);
  const row = await db.select().from(customers).where(eq(customers.id, id)).get();
  return row ? withEventsText(row) : null;
}

/**
 * Which of `messageIds` these customers already have (the dedupe check): in their rows' recent
 * events, and in their event chunks for the customers that have any.
 */
export async function loadSeenMessageIds(d1: D1Database, profiles: readonly StoredProfile[], messageIds: readonly string[]): Promise<Set<string>> {
  const db = database(d1);
  const wanted = new Set(messageIds);
  const seen = new Set<string>();
  for (const p of profiles) p.recentEvents.collectSeen(wanted, seen);
  const withChunks = profiles.filter((p) => p.chunkCount > 0).map((p) => p.id);
  if (withChunks.length > 0 && messageIds.length > 0) {
    const rows = await db.all<{ m: string }>(sql`
      SELECT j.value AS m FROM ${eventChunks} AS e, json_each(e.message_ids) AS j
      WHERE e.customer_id IN ${jsonList(withChunks)} AND j.value IN ${jsonList(messageIds)}`);
    for (const r of rows) seen.add(r.m);
  }
  return seen;
}

/** Splits events into groups of at most `maxBytes` of JSON. */
export function splitBySize<T>(items: readonly T[], maxBytes: number, size: (item: T) => number = (i) => JSON.stringify(i).length): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length > 0 && bytes + n > maxBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export interface ProfileWrite {
  customerId: string;
  /** null for a new customer. */
  previousVersion: number | null;
  state: ProfileState;
  /** The customer's stored events before this write (its row's recent events). */
  recentEvents: RowEvents;
  chunkCount: number;
  /** The identities the customer already has. */
  identities: Identity[];
  newIdentities: Identity[];
  newEvents: StoredEvent[];
  segments: Membership;
  scores: Scores | null;
  /** When the read API first served this customer (or one it absorbed). */
  servedAt: number | null;
  sessionAt: number | null;
  createdAt: number;
  now: number;
}

/**
 * Where a write's events go, and how its row's events text is written:
 * - `append`: the new events (`text`, a JSON array) are added to the stored text by SQL. Only for
 *   the row a summary describes: its text is what the writer read, as the version check ensures.
 * - `replace`: `text` is the row's whole new text.
 * Once the row would pass RECENT_EVENTS_MAX_BYTES, its events and the new ones move to new chunks
 * and the row's text is emptied: that needs the text (see needsRowEvents).
 */
export interface EventPlacement {
  mode: "append" | "replace";
  text: string;
  /** The row's event ids and text length after the write. */
  ids: readonly string[];
  length: number;
  chunks: StoredEvent[][];
}

export function placeEvents(customerId: string, recent: RowEvents, fresh: readonly StoredEvent[]): EventPlacement {
  const freshJson = eventsJson(fresh);
  const length = recent.appendedLength(freshJson.length);
  if (length <= RECENT_EVENTS_MAX_BYTES) {
    const ids = fresh.length === 0 ? recent.ids : [...recent.ids, ...fresh.map((e) => e.messageId)];
    if (!recent.isLoaded && recent.storedFor === customerId) return { mode: "append", text: freshJson, ids, length, chunks: [] };
    const text = recent.appendedJson(freshJson);
    return { mode: "replace", text, ids, length: text.length, chunks: [] };
  }
  return { mode: "replace", text: "[]", ids: [], length: 2, chunks: splitBySize([...recent.list, ...fresh], MAX_CHUNK_BYTES, (e) => eventJson(e).length) };
}

/** Whether writing these new events needs the row's events text (to move them to chunks). */
export function needsRowEvents(recent: RowEvents, fresh: readonly StoredEvent[]): boolean {
  return !recent.isLoaded && fresh.length > 0 && recent.appendedLength(eventsJsonLength(fresh)) > RECENT_EVENTS_MAX_BYTES;
}

/**
 * Rows as JSON array parameters of at most MAX_PARAM_BYTES: each row serialized once, its size
 * read from that string, the arrays joined from them.
 */
function rowParams(rows: readonly Record<string, unknown>[]): string[] {
  return rowGroups(rows.map((row) => ({ json: JSON.stringify(row), text: "" })), Infinity).map((group) => `[${group.map((r) => r.json).join(",")}]`);
}

/**
 * A row whose large text column (a customer's events) is bound as a parameter of its own: nested
 * in the row's JSON it would be escaped once more there, again by the D1 binding when it
 * serializes its request, and parsed again by SQLite. Bound apart, it is escaped once.
 */
interface RowWithText {
  json: string;
  text: string;
}

/** The rows per statement: D1 binds at most 100 parameters, one of them the rows' JSON. */
const TEXTS_PER_STATEMENT = 99;
/** A statement's texts together stay under this (each one is at most a chunk, 512 KB). */
const MAX_STATEMENT_TEXT_BYTES = 2 * 1024 * 1024;

function rowGroups(rows: readonly RowWithText[], maxRows: number): RowWithText[][] {
  const groups: RowWithText[][] = [];
  let group: RowWithText[] = [];
  let jsonBytes = 0;
  let textBytes = 0;
  for (const row of rows) {
    if (group.length > 0 && (group.length >= maxRows || jsonBytes + row.json.length > MAX_PARAM_BYTES || textBytes + row.text.length > MAX_STATEMENT_TEXT_BYTES)) {
      groups.push(group);
      group = [];
      jsonBytes = 0;
      textBytes = 0;
    }
    group.push(row);
    jsonBytes += row.json.length + 1;
    textBytes += row.text.length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Each row of the JSON array `rowsOf` binds, its own text parameter: `CASE key WHEN 0 THEN ? WHEN 1 THEN ? … END`. */
const textByIndex = (texts: readonly string[]) => sql`CASE key ${sql.join(texts.map((text, i) => sql`WHEN ${sql.raw(String(i))} THEN ${text}`), sql.raw(" "))} END`;

/**
 * The statements that commit all the writes of a batch. Customers are upserted with the version
 * the writer expects; the trigger of migration 0001 aborts the transaction if another writer got
 * there first. Identities are plain inserts, so a concurrent creation of the same person aborts too.
 */
/**
 * `keyHash` gives a new identity's suppression hash (privacy/suppression-hash.ts; null without a
 * secret), written with it so that a D1 trigger refuses one an erasure suppressed meanwhile.
 */
export function commitStatements(d1: D1Database, writes: readonly ProfileWrite[], keyHash: (key: string) => string | null = () => null): Statement[] {
  const db = database(d1);
  const appendRows: RowWithText[] = [];
  const replaceRows: RowWithText[] = [];
  // identity_keys is rewritten whole: existing keys plus the new ones.
  const identityRows: Record<string, unknown>[] = [];
  const chunkRows: RowWithText[] = [];
  for (const w of writes) {
    const placement = placeEvents(w.customerId, w.recentEvents, w.newEvents);
    const { chunks } = placement;
    const row = {
      id: w.customerId,
      traits: JSON.stringify(w.state.traits),
      trait_times: JSON.stringify(w.state.traitTimes),
      trait_issues: JSON.stringify(w.state.traitIssues),
      consent: JSON.stringify(w.state.consent),
      counters: JSON.stringify(w.state.counters),
      // Unknown computed traits stay SQL NULL (the backfill looks for those).
      computed: w.state.computed ? JSON.stringify(w.state.computed) : null,
      aggregates: JSON.stringify(w.state.aggregates),
      segments: JSON.stringify(w.segments),
      scores: w.scores ? JSON.stringify(w.scores) : null,
      enrichment: JSON.stringify(w.state.enrichment ?? {}),
      event_count: w.state.eventCount,
      identity_keys: JSON.stringify([...w.identities.map((i) => i.key), ...w.newIdentities.map((i) => i.key)]),
      recent_ids: JSON.stringify(placement.ids),
      recent_length: placement.length,
      chunk_count: w.chunkCount + chunks.length,
      first_seen_at: w.state.firstSeenAt,
      last_seen_at: w.state.lastSeenAt,
      version: (w.previousVersion ?? 0) + 1,
      served_at: w.servedAt,
      session_at: w.sessionAt,
      created_at: w.createdAt,
      updated_at: w.now,
    };
    (placement.mode === "append" ? appendRows : replaceRows).push({ json: JSON.stringify(row), text: placement.text });
    for (const id of w.newIdentities) identityRows.push({ key: id.key, kind: id.kind, value: id.value, customer_id: w.customerId, created_at: w.now, key_hash: keyHash(id.key) });
    for (const chunk of chunks) {
      const times = chunk.map((e) => Date.parse(e.timestamp));
      const meta = { customer_id: w.customerId, received_at: w.now, min_ts: Math.min(...times), max_ts: Math.max(...times), message_ids: JSON.stringify(chunk.map((e) => e.messageId)) };
      chunkRows.push({ json: JSON.stringify(meta), text: `[${chunk.map(eventJson).join(",")}]` });
    }
  }
  const statements: Statement[] = [];
  const addWithTexts = (query: (rows: SQL, texts: SQL) => SQL, rows: RowWithText[]) => {
    for (const group of rowGroups(rows, TEXTS_PER_STATEMENT)) statements.push(db.run(query(rowsOf(`[${group.map((r) => r.json).join(",")}]`), textByIndex(group.map((r) => r.text)))));
  };
  addWithTexts((rows, texts) => upsertCustomers(rows, texts, APPEND_EVENTS), appendRows);
  addWithTexts((rows, texts) => upsertCustomers(rows, texts, sql.raw("excluded.recent_events")), replaceRows);
  for (const param of rowParams(identityRows)) statements.push(db.run(insertIdentities(rowsOf(param))));
  addWithTexts(insertChunks, chunkRows);
  return statements;
}

/**
 * The stored events text with the new events (`excluded.recent_events`, a JSON array) appended,
 * as RowEvents.appendedJson does: `[a]` and `[b,c]` give `[a,b,c]`. A new customer's row is
 * inserted with the new events as they are.
 */
const APPEND_EVENTS = sql.raw(`CASE WHEN excluded.recent_events = '[]' THEN customers.recent_events WHEN customers.recent_events = '[]' THEN excluded.recent_events
  ELSE substr(customers.recent_events, 1, length(customers.recent_events) - 1) || ',' || substr(excluded.recent_events, 2) END`);

/**
 * The rows of a JSON array parameter, as `r(key, value)`. Materialized, so each row's object is turned
 * into text once: json_each's `value` is computed anew each time it is read, once per column (20
 * for a customer). Measured in SQLite: about a fifth of the time of committing new customers.
 */
const rowsOf = (json: string) => sql`WITH r AS MATERIALIZED (SELECT key, value FROM json_each(${json}))`;

/** `recentEvents`: the SQL expression of the row's events text; `updateEvents`: of an existing row's. */
const upsertCustomers = (rows: SQL, recentEvents: SQL, updateEvents: SQL) => sql`${rows}
  INSERT INTO customers (id, traits, trait_times, trait_issues, consent, counters, computed, aggregates, segments, scores, enrichment, event_count, recent_events, recent_ids, recent_length, identity_keys, chunk_count, first_seen_at, last_seen_at, version, served_at, session_at, created_at, updated_at)
  SELECT json_extract(value, '$.id'), json_extract(value, '$.traits'), json_extract(value, '$.trait_times'), json_extract(value, '$.trait_issues'), json_extract(value, '$.consent'), json_extract(value, '$.counters'), json_extract(value, '$.computed'), json_extract(value, '$.aggregates'), json_extract(value, '$.segments'), json_extract(value, '$.scores'), json_extract(value, '$.enrichment'),
         json_extract(value, '$.event_count'), ${recentEvents}, json_extract(value, '$.recent_ids'), json_extract(value, '$.recent_length'), json_extract(value, '$.identity_keys'), json_extract(value, '$.chunk_count'),
         json_extract(value, '$.first_seen_at'), json_extract(value, '$.last_seen_at'), json_extract(value, '$.version'),
         json_extract(value, '$.served_at'), json_extract(value, '$.session_at'), json_extract(value, '$.created_at'), json_extract(value, '$.updated_at')
  FROM r WHERE true
  ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times, trait_issues = excluded.trait_issues, consent = excluded.consent, counters = excluded.counters, computed = excluded.computed, aggregates = excluded.aggregates, segments = excluded.segments, scores = excluded.scores, enrichment = excluded.enrichment,
    event_count = excluded.event_count, recent_events = ${updateEvents}, recent_ids = excluded.recent_ids, recent_length = excluded.recent_length, identity_keys = excluded.identity_keys, chunk_count = excluded.chunk_count,
    first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at, version = excluded.version, served_at = excluded.served_at, session_at = excluded.session_at, updated_at = excluded.updated_at`;

const insertIdentities = (rows: SQL) => sql`${rows}
  INSERT INTO identities (key, kind, value, customer_id, created_at, key_hash)
  SELECT json_extract(value, '$.key'), json_extract(value, '$.kind'), json_extract(value, '$.value'), json_extract(value, '$.customer_id'), json_extract(value, '$.created_at'), json_extract(value, '$.key_hash')
  FROM r`;

/** `events`: the SQL expression of the chunk's events text. */
const insertChunks = (rows: SQL, events: SQL) => sql`${rows}
  INSERT INTO event_chunks (customer_id, received_at, min_ts, max_ts, message_ids, events)
  SELECT json_extract(value, '$.customer_id'), json_extract(value, '$.received_at'), json_extract(value, '$.min_ts'), json_extract(value, '$.max_ts'),
         json_extract(value, '$.message_ids'), ${events}
  FROM r`;

/**
 * Marks a customer as served by the read API, and returns it. The version goes up with it, so
 * that a consumer that read the customer before (and so would not write its snapshot) fails its
 * version check, reads again and writes the snapshot.
 */
export async function markServed(d1: D1Database, id: string, now = Date.now()): Promise<StoredProfile | null> {
  const db = database(d1);
  const row = await db
    .update(customers)
    // Serving starts the session object too (it writes the snapshot, with the session).
    .set({ servedAt: now, sessionAt: sql`coalesce(${customers.sessionAt}, ${now})`, version: sql`${customers.version} + 1` })
    .where(sql`${customers.id} = ${id} AND ${customers.servedAt} IS NULL`)
    .returning()
    .get();
  return row ? withEventsText(row) : null;
}

/** All stored events of a customer, newest first by event time (ties by messageId). */
export async function loadEvents(d1: D1Database, customerId: string): Promise<StoredEvent[]> {
  const profile = await loadProfile(d1, customerId);
  return profile ? storedEventsOf(d1, profile) : [];
}

/** All stored events of a loaded profile (its row's latest, plus its chunks), newest first. */
export async function storedEventsOf(d1: D1Database, profile: StoredProfile): Promise<StoredEvent[]> {
  const db = database(d1);
  const customerId = profile.id;
  const rows = profile.chunkCount > 0 ? await db.select({ events: eventChunks.events }).from(eventChunks).where(eq(eventChunks.customerId, customerId)).all() : [];
  if (!profile.recentEvents.isLoaded) profile.recentEvents = (await loadRowEvents(d1, [customerId])).get(customerId)!;
  const events = [...profile.recentEvents.list, ...rows.flatMap((r) => JSON.parse(r.events) as StoredEvent[])];
  return events.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp) || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0));
}

/** A profile from a whole row, its events text included. */
function withEventsText(r: typeof customers.$inferSelect): StoredProfile {
  return toStoredProfile(r, RowEvents.fromJson(r.recentEvents));
}

function toStoredProfile(r: Omit<typeof customers.$inferSelect, "recentEvents">, recentEvents: RowEvents): StoredProfile {
  return {
    id: r.id,
    state: {
      traits: JSON.parse(r.traits) as Record<string, unknown>,
      traitTimes: JSON.parse(r.traitTimes) as ProfileState["traitTimes"],
      traitIssues: JSON.parse(r.traitIssues) as Record<string, string>,
      consent: JSON.parse(r.consent) as ProfileState["consent"],
      counters: { types: {}, events: {}, ...(JSON.parse(r.counters) as Partial<Counters>) },
      ...(r.computed ? { computed: JSON.parse(r.computed) as ComputedState } : {}),
      aggregates: JSON.parse(r.aggregates) as Aggregates,
      ...(r.enrichment !== "{}" ? { enrichment: JSON.parse(r.enrichment) as ProfileState["enrichment"] } : {}),
      eventCount: r.eventCount,
      firstSeenAt: r.firstSeenAt,
      lastSeenAt: r.lastSeenAt,
    },
    identities: (JSON.parse(r.identityKeys) as string[]).map(identityFromKey),
    recentEvents,
    chunkCount: r.chunkCount,
    segments: JSON.parse(r.segments) as Membership,
    scores: r.scores ? (JSON.parse(r.scores) as Scores) : null,
    version: r.version,
    servedAt: r.servedAt,
    sessionAt: r.sessionAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
