/**
 * API keys. Write keys are public (they ship in storefront pages) and can only ingest; read and
 * admin keys are secret. Only a SHA-256 of each key is stored: keys are 192-bit random tokens,
 * so a fast hash is enough (there is nothing to brute-force), and a leaked table leaks no key.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { newId, randomToken, sha256Hex, timingSafeEqualStrings } from "../kernel/crypto";
import { database } from "../db/client";
import { apiKeys } from "../db/schema";

export const KEY_KINDS = ["write", "read", "admin"] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

const KIND_PREFIX: Record<KeyKind, string> = { write: "wk", read: "rk", admin: "ak" };

export interface ApiKey {
  id: string;
  kind: KeyKind;
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export const hashKey = (plaintext: string) => sha256Hex(`rapport-key:${plaintext}`);

/** How long a worker isolate trusts its cached answer about a key (revocations take this long). */
export const KEY_CACHE_MS = 30_000;
const cache = new Map<string, { key: ApiKey | null; until: number }>();

/**
 * The active key with this plaintext, or null. Each isolate caches the answer for KEY_CACHE_MS,
 * by hash and, in memory only, by plaintext, which spares the hot read path a SHA-256 per request.
 */
export async function findActiveKey(d1: D1Database, plaintext: string, now = Date.now()): Promise<ApiKey | null> {
  const db = database(d1);
  if (!plaintext || plaintext.length > 256) return null;
  const recent = recentByPlaintext.get(plaintext);
  if (recent && recent.until > now) return recent.key;
  const hash = await hashKey(plaintext);
  const hit = cache.get(hash);
  if (hit && hit.until > now) {
    rememberPlaintext(plaintext, hit.key, hit.until);
    return hit.key;
  }
  const row = await db.select().from(apiKeys).where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt))).get();
  // The row was found by its hash; compare again in constant time so no code path depends on
  // how much of the hash matched.
  const key = row && (await timingSafeEqualStrings(row.hash, hash)) ? toApiKey(row) : null;
  if (cache.size > 10_000) cache.clear();
  cache.set(hash, { key, until: now + KEY_CACHE_MS });
  rememberPlaintext(plaintext, key, now + KEY_CACHE_MS);
  return key;
}

const recentByPlaintext = new Map<string, { key: ApiKey | null; until: number }>();
function rememberPlaintext(plaintext: string, key: ApiKey | null, until: number): void {
  if (recentByPlaintext.size > 1_000) recentByPlaintext.clear();
  recentByPlaintext.set(plaintext, { key, until });
}

export async function createKey(d1: D1Database, kind: KeyKind, name: string, now = Date.now()): Promise<{ key: ApiKey; plaintext: string }> {
  const plaintext = `${KIND_PREFIX[kind]}_${randomToken(24)}`;
  const key = await insertKey(d1, kind, name, plaintext, now);
  return { key, plaintext };
}

/** Stores a key whose plaintext the caller chose (the local demo keys, or imported keys). */
export async function insertKey(d1: D1Database, kind: KeyKind, name: string, plaintext: string, now = Date.now()): Promise<ApiKey> {
  const db = database(d1);
  const row = { id: newId("key", now), kind, name, hash: await hashKey(plaintext), prefix: plaintext.slice(0, 7), createdAt: now, revokedAt: null };
  await db.insert(apiKeys).values(row);
  return toApiKey(row);
}

export async function listKeys(d1: D1Database): Promise<ApiKey[]> {
  const db = database(d1);
  const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt)).all();
  return rows.map(toApiKey);
}

/** Revokes a key; returns null when there is no such key. Takes effect in this isolate at once. */
export async function revokeKey(d1: D1Database, id: string, now = Date.now()): Promise<ApiKey | null> {
  const db = database(d1);
  const row = await db.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning().get();
  const existing = row ?? (await db.select().from(apiKeys).where(eq(apiKeys.id, id)).get());
  if (existing) {
    cache.delete(existing.hash);
    for (const [plaintext, entry] of recentByPlaintext) if (entry.key?.id === existing.id) recentByPlaintext.delete(plaintext);
  }
  return existing ? toApiKey(existing) : null;
}

function toApiKey(row: typeof apiKeys.$inferSelect): ApiKey {
  return { id: row.id, kind: row.kind, name: row.name, prefix: row.prefix, createdAt: row.createdAt, revokedAt: row.revokedAt };
}
