/**
 * D1 reads and writes of profiles, identities and packed events. The pipeline reads with these,
 * computes the new state in memory, and commits with one D1 batch (a transaction).
 */
import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { customers, eventChunks, identities } from "../db/schema";
import type { StoredEvent } from "../events/types";
import type { Identity, IdentityKind } from "../identity/keys";
import type { Counters, ProfileState } from "./apply";

export interface StoredProfile {
  id: string;
  state: ProfileState;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** `IN (SELECT value FROM json_each(?))` takes any number of values in one bound parameter. */
const jsonList = (values: readonly string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;

export async function loadOwners(db: Database, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await db.select({ key: identities.key, customerId: identities.customerId }).from(identities).where(sql`${identities.key} IN ${jsonList(keys)}`).all();
  return new Map(rows.map((r) => [r.key, r.customerId]));
}

export async function loadProfiles(db: Database, ids: readonly string[]): Promise<Map<string, StoredProfile>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(customers).where(sql`${customers.id} IN ${jsonList(ids)}`).all();
  return new Map(rows.map((r) => [r.id, toStoredProfile(r)]));
}

export async function loadProfile(db: Database, id: string): Promise<StoredProfile | null> {
  const row = await db.select().from(customers).where(eq(customers.id, id)).get();
  return row ? toStoredProfile(row) : null;
}

export async function loadIdentities(db: Database, customerIds: readonly string[]): Promise<Map<string, Identity[]>> {
  const out = new Map<string, Identity[]>(customerIds.map((id) => [id, []]));
  if (customerIds.length === 0) return out;
  const rows = await db.select().from(identities).where(sql`${identities.customerId} IN ${jsonList(customerIds)}`).all();
  for (const r of rows) out.get(r.customerId)?.push({ key: r.key, kind: r.kind as IdentityKind, value: r.value });
  return out;
}

/** Which of `messageIds` are already stored for these customers (the dedupe check). */
export async function loadSeenMessageIds(db: Database, customerIds: readonly string[], messageIds: readonly string[]): Promise<Set<string>> {
  if (customerIds.length === 0 || messageIds.length === 0) return new Set();
  const rows = await db.all<{ m: string }>(sql`
    SELECT j.value AS m FROM ${eventChunks} AS e, json_each(e.message_ids) AS j
    WHERE e.customer_id IN ${jsonList(customerIds)} AND j.value IN ${jsonList(messageIds)}`);
  return new Set(rows.map((r) => r.m));
}

/** D1 rows hold up to 2 MB; keep packed events well under it. */
const MAX_CHUNK_BYTES = 512 * 1024;

export function chunkEvents(events: readonly StoredEvent[]): StoredEvent[][] {
  const chunks: StoredEvent[][] = [];
  let current: StoredEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = JSON.stringify(e).length;
    if (current.length > 0 && bytes + size > MAX_CHUNK_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export interface ProfileWrite {
  customerId: string;
  /** null for a new customer. */
  previousVersion: number | null;
  state: ProfileState;
  newIdentities: Identity[];
  newEvents: StoredEvent[];
  now: number;
}

/**
 * The statements that commit one customer's change. The update is guarded by the version trigger
 * (migration 0001) and new rows are plain inserts, so a concurrent writer aborts the batch.
 */
export function profileWriteStatements(db: Database, w: ProfileWrite): BatchItem<"sqlite">[] {
  const columns = {
    traits: JSON.stringify(w.state.traits),
    traitTimes: JSON.stringify(w.state.traitTimes),
    counters: JSON.stringify(w.state.counters),
    eventCount: w.state.eventCount,
    firstSeenAt: w.state.firstSeenAt,
    lastSeenAt: w.state.lastSeenAt,
    updatedAt: w.now,
  };
  const statements: BatchItem<"sqlite">[] = [
    w.previousVersion === null
      ? db.insert(customers).values({ id: w.customerId, ...columns, version: 1, createdAt: w.now })
      : db.update(customers).set({ ...columns, version: w.previousVersion + 1 }).where(eq(customers.id, w.customerId)),
  ];
  for (const id of w.newIdentities) {
    statements.push(db.insert(identities).values({ key: id.key, kind: id.kind, value: id.value, customerId: w.customerId, createdAt: w.now }));
  }
  for (const chunk of chunkEvents(w.newEvents)) {
    const times = chunk.map((e) => Date.parse(e.timestamp));
    statements.push(
      db.insert(eventChunks).values({
        customerId: w.customerId,
        receivedAt: w.now,
        minTs: Math.min(...times),
        maxTs: Math.max(...times),
        messageIds: JSON.stringify(chunk.map((e) => e.messageId)),
        events: JSON.stringify(chunk),
      }),
    );
  }
  return statements;
}

/** All stored events of a customer, newest first by event time (ties by messageId). */
export async function loadEvents(db: Database, customerId: string): Promise<StoredEvent[]> {
  const rows = await db.select({ events: eventChunks.events }).from(eventChunks).where(eq(eventChunks.customerId, customerId)).all();
  const events = rows.flatMap((r) => JSON.parse(r.events) as StoredEvent[]);
  return events.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp) || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0));
}

function toStoredProfile(r: typeof customers.$inferSelect): StoredProfile {
  return {
    id: r.id,
    state: {
      traits: JSON.parse(r.traits) as Record<string, unknown>,
      traitTimes: JSON.parse(r.traitTimes) as Record<string, [number, string]>,
      counters: { types: {}, events: {}, ...(JSON.parse(r.counters) as Partial<Counters>) },
      eventCount: r.eventCount,
      firstSeenAt: r.firstSeenAt,
      lastSeenAt: r.lastSeenAt,
    },
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
