/** Small wrappers over WebCrypto used across the worker. */

const encoder = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const b of view) out += b.toString(16).padStart(2, "0");
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two strings (compares their SHA-256 digests, so lengths may differ). */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db) && a.length === b.length;
}

/** A random token of `bytes` bytes, base64url without padding. */
export function randomToken(bytes = 24): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let bin = "";
  for (const b of buf) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Sortable unique id with a prefix: `cus_` + 12 hex chars of time + 16 random hex chars. */
export function newId(prefix: string, now = Date.now()): string {
  const random = toHex(crypto.getRandomValues(new Uint8Array(8)));
  return `${prefix}_${now.toString(16).padStart(12, "0")}${random}`;
}

/** UTF-8 size of a string. */
export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * Is the UTF-8 size of `text` over `limit`? A UTF-16 code unit is at most 3 UTF-8 bytes, so most
 * strings are decided from their length without encoding them (which the hot ingest path avoids).
 */
export function isOverBytes(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return byteLength(text) > limit;
}

/** HMAC-SHA256 of `data` with `secret`, hex or base64 (webhook signatures, both ways). */
export async function hmacSha256(secret: string, data: string | ArrayBuffer | Uint8Array, encoding: "hex" | "base64" = "hex"): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, typeof data === "string" ? encoder.encode(data) : data));
  if (encoding === "hex") return toHex(mac);
  let binary = "";
  for (const b of mac) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * Does `sent` equal what any of the secrets gives? Every secret is checked (no early exit) and
 * each comparison is constant-time, so timing tells nothing about which secret matched, if any.
 */
export async function matchesAnySecret(sent: string | undefined, secrets: readonly string[], expected: (secret: string) => Promise<string>): Promise<boolean> {
  if (!sent || secrets.length === 0) return false;
  let ok = false;
  for (const secret of secrets) if (await timingSafeEqualStrings(await expected(secret), sent.trim())) ok = true;
  return ok;
}
