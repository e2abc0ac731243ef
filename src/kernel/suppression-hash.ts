/**
 * The keyed hash an erased identifier is remembered by: HMAC-SHA256 with a secret the database
 * does not hold (SUPPRESSION_SECRETS), so that the suppression list reveals no email, phone or id
 * even to someone who reads D1, and cannot be reversed by hashing a list of emails. Several
 * secrets (newest first) during a rotation: new suppressions use the newest, and identifiers are
 * checked against all of them.
 *
 * Synchronous (node:crypto, native): the consumer hashes every identifier of every event it checks.
 */
import { createHmac } from "node:crypto";

export const SUPPRESSION_PREFIX = "hmac:";

/** Hashes already made, per secret and key: returning customers' identifiers repeat. Bounded. */
const memo = new Map<string, string>();
const MEMO_MAX = 50_000;

export function suppressionHash(secret: string, key: string): string {
  const id = `${secret}\n${key}`;
  let hash = memo.get(id);
  if (hash === undefined) {
    hash = SUPPRESSION_PREFIX + createHmac("sha256", secret).update(key).digest("hex");
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(id, hash);
  }
  return hash;
}

/** The hashes of a key under every secret (what a stored suppression may be). */
export const suppressionHashes = (secrets: readonly string[], key: string) => secrets.map((s) => suppressionHash(s, key));
