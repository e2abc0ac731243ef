import { env, exports } from "cloudflare:workers";
import { DEMO_KEYS } from "../src/keys/demo";
import { shards } from "../src/db/shards";
import { loadClaims } from "../src/profiles/store";

export const KEYS = DEMO_KEYS;
export const BASE = "http://rapport.test";

export const basic = (key: string) => `Basic ${btoa(`${key}:`)}`;
export const bearer = (key: string) => `Bearer ${key}`;

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/** POSTs JSON to an ingest endpoint with the demo write key (HTTP Basic, as SDKs do). */
export function ingest(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

export function getCustomer(ref: string, key: string = KEYS.read, headers: Record<string, string> = {}): Promise<Response> {
  return api(`/v1/customers/${encodeURIComponent(ref)}`, { headers: { authorization: bearer(key), ...headers } });
}

export function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return api(path, { ...init, headers: { authorization: bearer(KEYS.admin), "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) } });
}

/** Polls until `check` returns a value (the queue consumer runs asynchronously), or throws. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The profile once it satisfies `ready`. */
export async function profileWhen(ref: string, ready: (p: Record<string, any>) => boolean): Promise<Record<string, any>> {
  return eventually(async () => {
    const res = await getCustomer(ref);
    if (res.status !== 200) return null;
    const body = (await res.json()) as Record<string, any>;
    return ready(body) ? body : null;
  }, `profile ${ref}`);
}

export const uid = (prefix = "u") => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
export { env };

/**
 * A customer whose session object fails when the pipeline calls it: served (so the pipeline calls
 * its object), and its object, starting, derives the session from stored events that cannot be
 * read. Returns its userId and master id.
 */
export async function brokenCustomer(): Promise<{ userId: string; customerId: string }> {
  const userId = uid("broken");
  const customerId = `cus_broken_${userId}`;
  const [row, key] = [dbOf(customerId), dbOf(`user_id:${userId}`)];
  await row.batch([
    row.prepare("INSERT INTO customers (id, identity_keys, chunk_count, served_at, created_at, updated_at) VALUES (?1, ?2, 1, 0, 0, 0)").bind(customerId, JSON.stringify([`user_id:${userId}`])),
    row.prepare("INSERT INTO event_chunks (customer_id, received_at, min_ts, max_ts, message_ids, events) VALUES (?1, 0, 0, 0, '[]', 'not json')").bind(customerId),
  ]);
  await key.prepare("INSERT INTO identities (key, kind, value, customer_id, created_at) VALUES (?1, 'user_id', ?2, ?3, 0)").bind(`user_id:${userId}`, userId, customerId).run();
  return { userId, customerId };
}

/** Where rows live with profiles spread over shards (docs/scaling.md). */
export const shardMap = () => shards(env);
/** The database of a customer's row, or of an identifier key. */
export const dbOf = (idOrKey: string) => shards(env).of(idOrKey);
/** The customer an identifier key belongs to, read where the key lives. */
export async function ownerOf(key: string): Promise<string | undefined> {
  return (await loadClaims(shards(env), [key])).get(key)?.customerId;
}
/** A count query run in every shard, added up. */
export async function countEverywhere(query: string, ...binds: unknown[]): Promise<number> {
  const counts = await Promise.all(shards(env).databases.map(async (d1) => (await d1.prepare(query).bind(...binds).first<{ n: number }>())?.n ?? 0));
  return counts.reduce((a, b) => a + b, 0);
}
/** Rows of a query from every shard. */
export async function allEverywhere<T>(query: string, ...binds: unknown[]): Promise<T[]> {
  return (await Promise.all(shards(env).databases.map(async (d1) => (await d1.prepare(query).bind(...binds).all<T>()).results))).flat();
}
/** A statement run in every shard. */
export async function runEverywhere(query: string, ...binds: unknown[]): Promise<void> {
  await Promise.all(shards(env).databases.map((d1) => d1.prepare(query).bind(...binds).run()));
}
