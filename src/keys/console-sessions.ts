/**
 * Console sessions: who signed in to `/console` with which key. The browser holds a random token
 * (an HttpOnly cookie); the database holds its SHA-256, the hash of the key that signed in, the
 * role and a CSRF token. A session counts only while its key is active, checked on every page:
 * revoking the key ends every session it opened, with no cache in between.
 */
import { and, eq, gt, isNull, lt } from "drizzle-orm";
import { randomToken, sha256Hex } from "../kernel/crypto";
import { database } from "../db/client";
import { apiKeys, consoleSessions } from "../db/schema";
import { hashKey, type ApiKey } from "./store";

/** What the console may do: admins act (replays), readers only look. */
export type ConsoleRole = "admin" | "read";

export interface ConsoleSession {
  role: ConsoleRole;
  /** Who signed in, as the console shows it: the key's name and prefix. */
  who: string;
  csrf: string;
  expiresAt: number;
  /** Signed in with a key (a stored session), or let through by Cloudflare Access (console/access.ts). */
  via: "key" | "access";
}

/** Twelve hours: a working day, after which the console asks for the key again. */
export const CONSOLE_SESSION_MS = 12 * 3_600_000;

const tokenHashOf = (token: string) => sha256Hex(`rapport-console:${token}`);

/** Opens a session for an active admin or read key; returns the cookie's token. */
export async function startConsoleSession(d1: D1Database, key: ApiKey, plaintext: string, now = Date.now()): Promise<{ token: string; session: ConsoleSession }> {
  const db = database(d1);
  const token = randomToken(32);
  const session = { role: key.kind === "admin" ? "admin" : "read", who: `${key.name} (${key.prefix}…)`, csrf: randomToken(24), expiresAt: now + CONSOLE_SESSION_MS, via: "key" } as const;
  // Expired rows go as new ones come: sign-ins are rare, so this keeps the table small for free.
  await db.batch([
    db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now)),
    db.insert(consoleSessions).values({ tokenHash: await tokenHashOf(token), keyHash: await hashKey(plaintext), role: session.role, csrf: session.csrf, createdAt: now, expiresAt: session.expiresAt }),
  ]);
  return { token, session };
}

/** The session this cookie token opened, while unexpired and its key is active; else null. */
export async function findConsoleSession(d1: D1Database, token: string, now = Date.now()): Promise<ConsoleSession | null> {
  if (!token || token.length > 128) return null;
  const row = await database(d1)
    .select({ role: consoleSessions.role, csrf: consoleSessions.csrf, expiresAt: consoleSessions.expiresAt, name: apiKeys.name, prefix: apiKeys.prefix })
    .from(consoleSessions)
    .innerJoin(apiKeys, and(eq(apiKeys.hash, consoleSessions.keyHash), isNull(apiKeys.revokedAt)))
    .where(and(eq(consoleSessions.tokenHash, await tokenHashOf(token)), gt(consoleSessions.expiresAt, now)))
    .get();
  return row ? { role: row.role, who: `${row.name} (${row.prefix}…)`, csrf: row.csrf, expiresAt: row.expiresAt, via: "key" } : null;
}

/** Signs out: the token stops working whatever the browser keeps. */
export async function endConsoleSession(d1: D1Database, token: string): Promise<void> {
  if (!token || token.length > 128) return;
  await database(d1).delete(consoleSessions).where(eq(consoleSessions.tokenHash, await tokenHashOf(token)));
}
