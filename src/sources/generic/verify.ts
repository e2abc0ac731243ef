/**
 * Verifying a generic source's request: an HMAC-SHA256 of the raw body in a header (hex or
 * base64, after an optional prefix), a shared token in a header, or an ECDSA signature checked
 * with the sender's public key (SendGrid). The secrets are Worker secrets
 * named by the source; a comma-separated value holds several (a rotation). Every secret is tried,
 * each compared in constant time.
 */
import { hmacSha256, matchesAnySecret } from "../../kernel/crypto";
import { verifyEcdsaP256 } from "../../kernel/ecdsa";
import type { SourceDefinition } from "./definition";

function secretsOf(env: Env, names: readonly string[]): string[] {
  const vars = env as unknown as Record<string, unknown>;
  return names.flatMap((n) => (typeof vars[n] === "string" ? (vars[n] as string).split(",").map((s) => s.trim()).filter(Boolean) : []));
}

export function verifySourceRequest(env: Env, signature: SourceDefinition["signature"], body: ArrayBuffer | Uint8Array, header: (name: string) => string | undefined): Promise<boolean> {
  if (signature.type === "ecdsa-p256") return verifyEcdsa(secretsOf(env, signature.secretNames), header(signature.header), header(signature.timestampHeader), body);
  const expected = async (secret: string) =>
    signature.type === "token" ? (signature.header.toLowerCase() === "authorization" ? `Bearer ${secret}` : secret) : `${signature.prefix}${await hmacSha256(secret, body, signature.encoding)}`;
  return matchesAnySecret(header(signature.header), secretsOf(env, signature.secretNames), expected);
}

/** The secrets a source names that hold no value in this deployment (not set, or empty). */
export function missingSecrets(env: Env, names: readonly string[]): string[] {
  return names.filter((n) => secretsOf(env, [n]).length === 0);
}

/** Any of the public keys verifies the signature of timestamp + body (a rotation keeps two). */
async function verifyEcdsa(publicKeys: readonly string[], signature: string | undefined, timestamp: string | undefined, body: ArrayBuffer | Uint8Array): Promise<boolean> {
  if (!signature || !timestamp) return false;
  const stamp = new TextEncoder().encode(timestamp);
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  const signed = new Uint8Array(stamp.length + bytes.length);
  signed.set(stamp);
  signed.set(bytes, stamp.length);
  let ok = false;
  for (const key of publicKeys) if (await verifyEcdsaP256(key, signature, signed)) ok = true;
  return ok;
}
