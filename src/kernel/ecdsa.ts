/**
 * ECDSA P-256 / SHA-256 verification with WebCrypto, for senders that sign with a private key and
 * publish the public one (SendGrid's Signed Event Webhook). Their signatures are DER-encoded
 * (ASN.1 SEQUENCE of two INTEGERs); WebCrypto wants the raw 64-byte r‖s, so the DER is unpacked
 * here. Anything malformed verifies as false, never throws.
 */

const fromBase64 = (s: string) => Uint8Array.from(atob(s.trim()), (c) => c.charCodeAt(0));

/** r‖s (32 bytes each) from a DER signature, or null when it is not one. */
export function derToRaw(der: Uint8Array): Uint8Array | null {
  let i = 0;
  if (der[i++] !== 0x30) return null;
  let length = der[i++]!;
  if (length & 0x80) {
    // Long form: P-256 signatures never need it beyond one byte.
    if ((length & 0x7f) !== 1) return null;
    length = der[i++]!;
  }
  if (length !== der.length - i) return null;
  const out = new Uint8Array(64);
  for (const offset of [0, 32]) {
    if (der[i++] !== 0x02) return null;
    const n = der[i++]!;
    if (n === 0 || n > 33 || i + n > der.length) return null;
    let int = der.subarray(i, i + n);
    i += n;
    // A leading zero keeps a high bit from reading as negative; the value itself is at most 32 bytes.
    while (int.length > 32 && int[0] === 0) int = int.subarray(1);
    if (int.length > 32) return null;
    out.set(int, offset + 32 - int.length);
  }
  return i === der.length ? out : null;
}

/** Does `signatureBase64` (DER) sign `data` under the public key `publicKeyBase64` (SPKI DER)? */
export async function verifyEcdsaP256(publicKeyBase64: string, signatureBase64: string, data: Uint8Array): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey("spki", fromBase64(publicKeyBase64), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const raw = derToRaw(fromBase64(signatureBase64));
    return raw !== null && (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, data));
  } catch {
    return false;
  }
}
