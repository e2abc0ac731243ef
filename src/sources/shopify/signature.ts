/**
 * Shopify signs each webhook with `X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the raw
 * body with the app's secret. Every configured secret is tried (a rotation keeps the old one a
 * while), each compared in constant time.
 */
import { timingSafeEqualStrings } from "../../crypto";

async function hmacBase64(secret: string, body: ArrayBuffer): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
  let binary = "";
  for (const b of mac) binary += String.fromCharCode(b);
  return btoa(binary);
}

export async function verifyShopifySignature(body: ArrayBuffer, header: string | undefined, secrets: readonly string[]): Promise<boolean> {
  if (!header || secrets.length === 0) return false;
  let ok = false;
  // Every secret is checked (no early exit), so timing says nothing about which one matched.
  for (const secret of secrets) if (await timingSafeEqualStrings(await hmacBase64(secret, body), header.trim())) ok = true;
  return ok;
}

export { hmacBase64 as shopifySignature };
