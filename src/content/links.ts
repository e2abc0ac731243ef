/**
 * How a URL embedded in an email names its customer without letting anyone enumerate customers:
 *
 * - a per-customer token, `t=<customer id>.<MAC>`: stable, so an ESP can store it as a profile
 *   attribute (the profile API returns it as `contentToken`);
 * - or a signature over block, customer and optional expiry, `c=<ref>&exp=<unix s>&sig=<hex>`,
 *   which ESPs with an HMAC filter (Braze and Customer.io Liquid's `hmac_sha256`) compute in the
 *   template: `sig = hex(HMAC-SHA256(secret, "<block>:<customer ref>:<exp or empty>"))`.
 *
 * MACs use `CONTENT_SECRETS` (newest first; every one verifies during a rotation) and are
 * compared in constant time. A link that fails gets the block's fallback, never an error that
 * says whether the customer exists.
 */
import { toHex } from "../kernel/crypto";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

async function mac(secret: string, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/** Constant-time: `crypto.subtle.verify` compares the MAC itself. */
async function verifies(secret: string, message: string, signature: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
function fromBase64url(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}
function fromHex(text: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(text)) return null;
  return Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
}

/** Token MACs are cut to 128 bits: still unguessable, and the URL stays short. */
const TOKEN_MAC_BYTES = 16;
const tokenMessage = (customerId: string) => `rapport-content-token:${customerId}`;

/**
 * Token MACs already computed, per secret and customer: a send renders each recipient's links
 * many times, and every open and click verifies them again. Bounded: cleared when full.
 */
const tokenMacs = new Map<string, Uint8Array>();
const TOKENS_HELD = 20_000;

async function tokenMac(secret: string, customerId: string): Promise<Uint8Array> {
  const key = `${secret}\n${customerId}`;
  let held = tokenMacs.get(key);
  if (!held) {
    held = (await mac(secret, tokenMessage(customerId))).slice(0, TOKEN_MAC_BYTES);
    if (tokenMacs.size >= TOKENS_HELD) tokenMacs.clear();
    tokenMacs.set(key, held);
  }
  return held;
}

/** The customer's content token (signed with the newest secret). */
export async function contentToken(secrets: readonly string[], customerId: string): Promise<string> {
  const secret = secrets[0];
  if (!secret) throw new Error("CONTENT_SECRETS is empty: content links cannot be signed");
  return `${customerId}.${base64url(await tokenMac(secret, customerId))}`;
}

/** The customer id a token names, or null when no secret made it. */
export async function verifyContentToken(secrets: readonly string[], token: string): Promise<string | null> {
  const dot = token.lastIndexOf(".");
  if (dot <= 0) return null;
  const customerId = token.slice(0, dot);
  const given = fromBase64url(token.slice(dot + 1));
  if (!given || given.length !== TOKEN_MAC_BYTES) return null;
  for (const secret of secrets) {
    // Both are 16 bytes: timingSafeEqual needs equal lengths, which the check above guarantees.
    if (crypto.subtle.timingSafeEqual(await tokenMac(secret, customerId), given)) return customerId;
  }
  return null;
}

export const signedMessage = (block: string, ref: string, exp: string | undefined) => `${block}:${ref}:${exp ?? ""}`;

/** The `sig` for a block and customer ref (hex HMAC-SHA256, what ESP Liquid filters produce). */
export async function signContent(secret: string, block: string, ref: string, exp?: number): Promise<string> {
  return toHex(await mac(secret, signedMessage(block, ref, exp === undefined ? undefined : String(exp))));
}

/** Is `sig` a valid signature of block, ref and exp by any secret, and not expired at `now` (ms)? */
export async function verifyContentSignature(secrets: readonly string[], block: string, ref: string, exp: string | undefined, sig: string, now = Date.now()): Promise<boolean> {
  if (exp !== undefined && (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 < now)) return false;
  const given = fromHex(sig);
  if (!given) return false;
  for (const secret of secrets) if (await verifies(secret, signedMessage(block, ref, exp), given)) return true;
  return false;
}
