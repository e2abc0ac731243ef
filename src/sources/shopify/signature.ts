/**
 * Shopify signs each webhook with `X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the raw
 * body with the app's secret. Every configured secret is tried (a rotation keeps the old one a
 * while), each compared in constant time.
 */
import { hmacSha256, matchesAnySecret } from "../../kernel/crypto";

export const shopifySignature = (secret: string, body: ArrayBuffer | Uint8Array) => hmacSha256(secret, body, "base64");

export const verifyShopifySignature = (body: ArrayBuffer | Uint8Array, header: string | undefined, secrets: readonly string[]) => matchesAnySecret(header, secrets, (secret) => shopifySignature(secret, body));
