/**
 * Verifying a generic source's request: an HMAC-SHA256 of the raw body in a header (hex or
 * base64, after an optional prefix), or a shared token in a header. The secrets are Worker secrets
 * named by the source; a comma-separated value holds several (a rotation). Every secret is tried,
 * each compared in constant time.
 */
import { timingSafeEqualStrings, toHex } from "../../crypto";
import type { SourceDefinition } from "./definition";

function secretsOf(env: Env, names: readonly string[]): string[] {
  const vars = env as unknown as Record<string, unknown>;
  return names.flatMap((n) => (typeof vars[n] === "string" ? (vars[n] as string).split(",").map((s) => s.trim()).filter(Boolean) : []));
}

async function hmac(secret: string, body: ArrayBuffer, encoding: "hex" | "base64"): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  if (encoding === "hex") return toHex(mac);
  let binary = "";
  for (const b of mac) binary += String.fromCharCode(b);
  return btoa(binary);
}

export async function verifySourceRequest(env: Env, signature: SourceDefinition["signature"], body: ArrayBuffer, header: (name: string) => string | undefined): Promise<boolean> {
  const secrets = secretsOf(env, signature.secretNames);
  const sent = header(signature.header)?.trim();
  if (!sent || secrets.length === 0) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = signature.type === "token" ? (signature.header.toLowerCase() === "authorization" ? `Bearer ${secret}` : secret) : `${signature.prefix}${await hmac(secret, body, signature.encoding)}`;
    if (await timingSafeEqualStrings(expected, sent)) ok = true;
  }
  return ok;
}
