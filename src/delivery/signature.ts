/**
 * Webhook signatures, in the scheme Stripe made familiar:
 *
 *   Rapport-Signature: t=1732406400,v1=5257a869e7…[,v1=…]
 *
 * `v1` is the hex HMAC-SHA256, keyed with a signing secret, of `<t>.<raw body>`. During a secret
 * rotation every configured secret signs, so receivers holding either the old or the new secret
 * verify. Receivers refuse a timestamp more than five minutes from their clock (replays).
 */
import { hmacSha256, timingSafeEqualStrings } from "../kernel/crypto";

export const SIGNATURE_HEADER = "Rapport-Signature";
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, text: string) => hmacSha256(secret, text);

/** The header value for `body` sent at `timestamp` (seconds), signed by every secret. */
export async function signatureHeader(body: string, secrets: readonly string[], timestamp: number): Promise<string> {
  if (secrets.length === 0) throw new Error("No webhook signing secret configured (WEBHOOK_SECRETS)");
  const signatures = await Promise.all(secrets.map((s) => hmacHex(s, `${timestamp}.${body}`)));
  return [`t=${timestamp}`, ...signatures.map((s) => `v1=${s}`)].join(",");
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: "malformed" | "too_old" | "mismatch" };

/** What a receiver does: checks the timestamp and that one `v1` matches its secret. */
export async function verifySignature(header: string | null, body: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<VerifyResult> {
  const parts = (header ?? "").split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  const candidates = parts.filter(([k, v]) => k === "v1" && v).map(([, v]) => v!);
  if (!Number.isInteger(t) || candidates.length === 0) return { ok: false, reason: "malformed" };
  if (Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: "too_old" };
  const expected = await hmacHex(secret, `${t}.${body}`);
  for (const c of candidates) if (await timingSafeEqualStrings(c, expected)) return { ok: true, timestamp: t };
  return { ok: false, reason: "mismatch" };
}
