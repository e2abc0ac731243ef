/**
 * D1 reads and writes of profiles, identities and stored events. The pipeline reads with these
 * (drizzle), computes the new state in memory, and commits every customer of a batch with a
 * handful of multi-row statements in one D1 batch (a transaction). Those statements are plain SQL:
 * each carries its rows as one JSON parameter expanded by `json_each`, which drizzle's builder
 * cannot express, and which keeps a thousand customers under D1's 100-parameter limit.
 *
 * A customer's events live in its Durable Object (sessions/event-store.ts); the row holds the
 * watermark of what the profile has applied (`event_seq`). Rows from before that (`event_seq`
 * NULL) still hold events in `recent_events` and `event_chunks`: read here (storedEventsOf) to
 * move them into the object, and emptied by the commit that records the move.
 */
import { suppressionHashes } from "../kernel/suppression-hash";
import type { ComputedState } from "./computed";
import type { Aggregates } from "./aggregates";
import type { Membership } from "../model/membership";
import type { Scores } from "../model/scores";
import { count, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { database } from "../db/client";
import type { ShardMap } from "../db/shards";
import { customers, eventChunks, identities, suppressions } from "../db/schema";
import type { Statement } from "../db/statements";
import type { StoredEvent } from "../model/events";
import { identityFromKey, type Identity } from "../model/identity";
import type { Counters, ProfileState } from "./apply";
import { RowEvents } from "./row-events";

export interface StoredProfile {
  id: string;
  state: ProfileState;
  identities: Identity[];
  /**
   * The sequence of the last chunk of the customer's object applied to this profile; null while
   * the row still holds its events (`recentEvents`, and `chunkCount` rows of event_chunks).
   */
  eventSeq: number | null;
  /** Only for rows that still hold their events: those, or their summary. */
  recentEvents: RowEvents;
  chunkCount: number;
  /**
   * The customers merged into this one → when their events moved into this customer's object (0:
   * not yet): the survivor's next batch has its object take those in, and a merge interrupted
   * between databases is recognized as done (db/sharded-writes.ts).
   */
  absorbed: Record<string, number>;
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

/** D1 values may be 1 MB; rows sent as one JSON parameter stay under this. */
const MAX_PARAM_BYTES = 900 * 1024;

/** `IN (SELECT value FROM json_each(?))` takes any number of values in one bound parameter. */
const jsonList = (values: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;

/** Who owns each of these identifier keys (read where each key lives). */
export async function loadOwners(map: ShardMap, keys: readonly string[]): Promise<Map<string, string>> {
  const claims = await loadClaims(map, keys);
  return new Map([...claims].map(([key, c]) => [key, c.customerId]));
}

export interface Claim {
  customerId: string;
  /** When the key was attached: a claim whose customer has no row yet is taken over only when old. */
  createdAt: number;
}

/** The identities rows of these keys, each read in the database its key's slot is in. */
export async function loadClaims(map: ShardMap, keys: readonly string[]): Promise<Map<string, Claim>> {
  const rows = await map.readEach(keys, (k) => k, (d1, some) =>
    database(d1).select({ key: identities.key, customerId: identities.customerId, createdAt: identities.createdAt }).from(identities).where(sql`${identities.key} IN ${jsonList(some)}`).all(),
  );
  return new Map(rows.map((r) => [r.key, { customerId: r.customerId, createdAt: r.createdAt }]));
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
 * Profiles by id. With `events: "summary"` (the pipeline), a row's events text is left in D1: most
 * rows hold none since events moved into the customers' objects, and rowHeldEvents reads it where
 * a row still does.
 */
export async function loadProfiles(map: ShardMap, ids: readonly string[], { events = "text" }: { events?: "text" | "summary" } = {}): Promise<Map<string, StoredProfile>> {
  if (events === "text") {
    const rows = await map.readEach(ids, (id) => id, (d1, some) => database(d1).select().from(customers).where(sql`${customers.id} IN ${jsonList(some)}`).all());
    return new Map(rows.map((r) => [r.id, withEventsText(r)]));
  }
  const { recentEvents: _text, ...columns } = getTableColumns(customers);
  const rows = await map.readEach(ids, (id) => id, (d1, some) => database(d1).select(columns).from(customers).where(sql`${customers.id} IN ${jsonList(some)}`).all());
  return new Map(rows.map((r) => [r.id, toStoredProfile(r, RowEvents.stored(r.id))]));
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

export async function loadProfile(map: ShardMap, id: string): Promise<StoredProfile | null> {
  const db = database(map.of(id));
  const row = await db.select().from(customers).where(eq(customers.id, id)).get();
  return row ? withEventsText(row) : null;
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
  /** The identities the customer already has. */
  identities: Identity[];
  newIdentities: Identity[];
  /**
   * The watermark of the customer's object after this write (sessions/event-store.ts); null: the
   * row keeps the events it holds (a write that did not move them, such as a reevaluation).
   */
  eventSeq: number | null;
  /** The row still held events (they moved into the object): its event_chunks rows go. */
  rowHeldEvents: boolean;
  segments: Membership;
  scores: Scores | null;
  /** The customers it absorbed, and when their events moved into its object (StoredProfile.absorbed). */
  absorbed: Record<string, number>;
  /** When the read API first served this customer (or one it absorbed). */
  servedAt: number | null;
  sessionAt: number | null;
  createdAt: number;
  now: number;
}

/** Rows as JSON array parameters of at most MAX_PARAM_BYTES each: each row serialized once. */
function rowParams(rows: readonly Record<string, unknown>[]): string[] {
  return splitBySize(rows.map((row) => JSON.stringify(row)), MAX_PARAM_BYTES, (json) => json.length + 1).map((group) => `[${group.join(",")}]`);
}

/**
 * The statements that write these profiles, all in `d1` (their shard). Customers are upserted
 * with the version the writer expects; the trigger of migration 0001 aborts the transaction if
 * another writer got there first.
 */
export function profileStatements(d1: D1Database, writes: readonly ProfileWrite[]): Statement[] {
  const db = database(d1);
  const customerRows: Record<string, unknown>[] = [];
  for (const w of writes) {
    customerRows.push({
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
      experiments: w.state.experiments ? JSON.stringify(w.state.experiments) : null,
      send_time: w.state.sendTime ? JSON.stringify(w.state.sendTime) : null,
      engagement: w.state.engagement ? JSON.stringify(w.state.engagement) : null,
      surveys: w.state.surveys ? JSON.stringify(w.state.surveys) : null,
      event_count: w.state.eventCount,
      identity_keys: JSON.stringify([...w.identities.map((i) => i.key), ...w.newIdentities.map((i) => i.key)]),
      event_seq: w.eventSeq,
      absorbed: Object.keys(w.absorbed).length > 0 ? JSON.stringify(w.absorbed) : null,
      first_seen_at: w.state.firstSeenAt,
      last_seen_at: w.state.lastSeenAt,
      version: (w.previousVersion ?? 0) + 1,
      served_at: w.servedAt,
      session_at: w.sessionAt,
      created_at: w.createdAt,
      updated_at: w.now,
    });
  }
  const statements: Statement[] = rowParams(customerRows).map((param) => db.run(upsertCustomers(rowsOf(param))));
  // The rows that held events: their chunks moved into the objects (the upsert empties the row's own).
  const moved = writes.filter((w) => w.rowHeldEvents).map((w) => w.customerId);
  if (moved.length > 0) statements.push(db.delete(eventChunks).where(sql`${eventChunks.customerId} IN ${jsonList(moved)}`));
  return statements;
}

/**
 * The rows of a JSON array parameter, as `r(key, value)`. Materialized, so each row's object is turned
 * into text once: json_each's `value` is computed anew each time it is read, once per column (20
 * for a customer). Measured in SQLite: about a fifth of the time of committing new customers.
 */
const rowsOf = (json: string) => sql`WITH r AS MATERIALIZED (SELECT key, value FROM json_each(${json}))`;

/**
 * A row written with a watermark holds no events (they are in its object): its own are emptied.
 * Without one (a row from before, rewritten without moving them) it keeps them.
 */
const upsertCustomers = (rows: SQL) => sql`${rows}
  INSERT INTO customers (id, traits, trait_times, trait_issues, consent, counters, computed, aggregates, segments, scores, enrichment, experiments, send_time, engagement, surveys, event_count, recent_events, recent_ids, recent_length, identity_keys, chunk_count, event_seq, absorbed, first_seen_at, last_seen_at, version, served_at, session_at, created_at, updated_at)
  SELECT json_extract(value, '$.id'), json_extract(value, '$.traits'), json_extract(value, '$.trait_times'), json_extract(value, '$.trait_issues'), json_extract(value, '$.consent'), json_extract(value, '$.counters'), json_extract(value, '$.computed'), json_extract(value, '$.aggregates'), json_extract(value, '$.segments'), json_extract(value, '$.scores'), json_extract(value, '$.enrichment'), json_extract(value, '$.experiments'), json_extract(value, '$.send_time'), json_extract(value, '$.engagement'), json_extract(value, '$.surveys'),
         json_extract(value, '$.event_count'), '[]', '[]', 2, json_extract(value, '$.identity_keys'), 0, json_extract(value, '$.event_seq'), json_extract(value, '$.absorbed'),
         json_extract(value, '$.first_seen_at'), json_extract(value, '$.last_seen_at'), json_extract(value, '$.version'),
         json_extract(value, '$.served_at'), json_extract(value, '$.session_at'), json_extract(value, '$.created_at'), json_extract(value, '$.updated_at')
  FROM r WHERE true
  ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times, trait_issues = excluded.trait_issues, consent = excluded.consent, counters = excluded.counters, computed = excluded.computed, aggregates = excluded.aggregates, segments = excluded.segments, scores = excluded.scores, enrichment = excluded.enrichment, experiments = excluded.experiments, send_time = excluded.send_time, engagement = excluded.engagement, surveys = excluded.surveys,
    event_count = excluded.event_count, identity_keys = excluded.identity_keys, event_seq = excluded.event_seq, absorbed = excluded.absorbed,
    recent_events = CASE WHEN excluded.event_seq IS NULL THEN customers.recent_events ELSE '[]' END,
    recent_ids = CASE WHEN excluded.event_seq IS NULL THEN customers.recent_ids ELSE '[]' END,
    recent_length = CASE WHEN excluded.event_seq IS NULL THEN customers.recent_length ELSE 2 END,
    chunk_count = CASE WHEN excluded.event_seq IS NULL THEN customers.chunk_count ELSE 0 END,
    first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at, version = excluded.version, served_at = excluded.served_at, session_at = excluded.session_at, updated_at = excluded.updated_at`;

export interface IdentityClaim {
  identity: Identity;
  customerId: string;
  /** A customer with no row yet that held the key (a claim an interrupted commit left): it is taken over. */
  takesOverFrom?: string;
}

/**
 * The statements that attach new identifiers to their customers, all in `d1` (the shard of their
 * keys). Plain inserts: a key someone else claimed meanwhile aborts the batch. `keyHash` gives a
 * new identity's suppression hash (privacy/suppression-hash.ts; null without a secret), written
 * with it so that a D1 trigger refuses one an erasure suppressed meanwhile.
 */
export function claimStatements(d1: D1Database, claims: readonly IdentityClaim[], now: number, keyHash: (key: string) => string | null = () => null): Statement[] {
  const db = database(d1);
  const statements: Statement[] = [];
  const takeovers = claims.filter((c) => c.takesOverFrom !== undefined);
  if (takeovers.length > 0) {
    const pairs = JSON.stringify(takeovers.map((c) => [c.identity.key, c.takesOverFrom]));
    statements.push(db.run(sql`DELETE FROM identities WHERE (key, customer_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(${pairs}))`));
  }
  const rows = claims.map(({ identity: id, customerId }) => ({ key: id.key, kind: id.kind, value: id.value, customer_id: customerId, created_at: now, key_hash: keyHash(id.key) }));
  for (const param of rowParams(rows)) statements.push(db.run(insertIdentities(rowsOf(param))));
  return statements;
}

const insertIdentities = (rows: SQL) => sql`${rows}
  INSERT INTO identities (key, kind, value, customer_id, created_at, key_hash)
  SELECT json_extract(value, '$.key'), json_extract(value, '$.kind'), json_extract(value, '$.value'), json_extract(value, '$.customer_id'), json_extract(value, '$.created_at'), json_extract(value, '$.key_hash')
  FROM r`;

/**
 * Marks a customer as served by the read API, and returns it. The version goes up with it, so
 * that a consumer that read the customer before (and so would not write its snapshot) fails its
 * version check, reads again and writes the snapshot.
 */
export async function markServed(map: ShardMap, id: string, now = Date.now()): Promise<StoredProfile | null> {
  const db = database(map.of(id));
  const row = await db
    .update(customers)
    // Serving starts the session object too (it writes the snapshot, with the session).
    .set({ servedAt: now, sessionAt: sql`coalesce(${customers.sessionAt}, ${now})`, version: sql`${customers.version} + 1` })
    .where(sql`${customers.id} = ${id} AND ${customers.servedAt} IS NULL`)
    .returning()
    .get();
  return row ? withEventsText(row) : null;
}

/**
 * The events a row still holds (from before events moved into the customer's object; none once
 * `event_seq` is set): its latest, plus its chunks, newest first by event time (ties by messageId).
 */
export async function rowHeldEvents(map: ShardMap, profile: StoredProfile): Promise<StoredEvent[]> {
  if (profile.eventSeq !== null) return [];
  const d1 = map.of(profile.id);
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
    eventSeq: r.eventSeq,
    state: {
      traits: JSON.parse(r.traits) as Record<string, unknown>,
      traitTimes: JSON.parse(r.traitTimes) as ProfileState["traitTimes"],
      traitIssues: JSON.parse(r.traitIssues) as Record<string, string>,
      consent: JSON.parse(r.consent) as ProfileState["consent"],
      counters: { types: {}, events: {}, ...(JSON.parse(r.counters) as Partial<Counters>) },
      ...(r.computed ? { computed: JSON.parse(r.computed) as ComputedState } : {}),
      aggregates: JSON.parse(r.aggregates) as Aggregates,
      ...(r.enrichment !== "{}" ? { enrichment: JSON.parse(r.enrichment) as ProfileState["enrichment"] } : {}),
      ...(r.experiments ? { experiments: JSON.parse(r.experiments) as ProfileState["experiments"] } : {}),
      ...(r.sendTime ? { sendTime: JSON.parse(r.sendTime) as ProfileState["sendTime"] } : {}),
      ...(r.engagement ? { engagement: JSON.parse(r.engagement) as ProfileState["engagement"] } : {}),
      ...(r.surveys ? { surveys: JSON.parse(r.surveys) as ProfileState["surveys"] } : {}),
      eventCount: r.eventCount,
      firstSeenAt: r.firstSeenAt,
      lastSeenAt: r.lastSeenAt,
    },
    identities: (JSON.parse(r.identityKeys) as string[]).map(identityFromKey),
    recentEvents,
    chunkCount: r.chunkCount,
    absorbed: r.absorbed ? (JSON.parse(r.absorbed) as Record<string, number>) : {},
    segments: JSON.parse(r.segments) as Membership,
    scores: r.scores ? (JSON.parse(r.scores) as Scores) : null,
    version: r.version,
    servedAt: r.servedAt,
    sessionAt: r.sessionAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** How many customers there are, in every shard. */
export async function countCustomers(map: ShardMap): Promise<number> {
  const counts = await map.everywhere(async (d1) => [(await database(d1).select({ n: count() }).from(customers).get())?.n ?? 0]);
  return counts.reduce((a, b) => a + b, 0);
}
