/**
 * The documented keys of a local installation (`npm start`) and of the tests. They are public
 * knowledge, so they must never exist in a deployed environment: `npm start` only seeds the local
 * database, and the deployment guide creates real keys with the admin API.
 */
import { database } from "../db/client";
import { apiKeys } from "../db/schema";
import { hashKey, type KeyKind } from "./store";

export const DEMO_KEYS = {
  write: "wk_local_demo",
  read: "rk_local_demo",
  admin: "ak_local_demo",
} as const satisfies Record<KeyKind, string>;

/** Inserts the demo keys unless they exist (idempotent). */
export async function seedDemoKeys(d1: D1Database, now = Date.now()): Promise<void> {
  const db = database(d1);
  for (const [kind, plaintext] of Object.entries(DEMO_KEYS) as [KeyKind, string][]) {
    await db
      .insert(apiKeys)
      .values({ id: `key_demo_${kind}`, kind, name: `Local demo ${kind} key`, hash: await hashKey(plaintext), prefix: plaintext.slice(0, 7), createdAt: now })
      .onConflictDoNothing();
  }
}
