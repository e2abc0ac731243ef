/**
 * CORS for AMP for Email (`amp-list` fetching JSON), both versions email clients use:
 *
 * - version 2: the request says `AMP-Email-Sender: <address>`; the answer must carry
 *   `AMP-Email-Allow-Sender` with that address (or `*`), else the client drops it;
 * - version 1 (deprecated, still sent): `__amp_source_origin=<origin>` in the query; the answer
 *   carries `AMP-Access-Control-Allow-Source-Origin` with it, exposed to the client, plus the usual
 *   `Access-Control-Allow-Origin` for the requesting origin.
 *
 * A sender not allowed gets no allow header: its email shows nothing, as AMP intends.
 */

export function senderAllowed(sender: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const address = sender.trim().toLowerCase();
  return allowed.some((a) => (a.startsWith("@") ? address.endsWith(a) : address === a));
}

/** The AMP headers for a request, or null when the request is from an AMP sender not allowed. */
export function ampHeaders(request: { headers: Headers; url: URL }, allowed: readonly string[]): Record<string, string> | null {
  const headers: Record<string, string> = {};
  const sender = request.headers.get("amp-email-sender");
  if (sender !== null) {
    if (!senderAllowed(sender, allowed)) return null;
    headers["amp-email-allow-sender"] = sender;
  }
  const sourceOrigin = request.url.searchParams.get("__amp_source_origin");
  if (sourceOrigin !== null) {
    // In version 1 the "source origin" is the sender's email address.
    if (!senderAllowed(sourceOrigin, allowed)) return null;
    headers["amp-access-control-allow-source-origin"] = sourceOrigin;
    headers["access-control-expose-headers"] = "AMP-Access-Control-Allow-Source-Origin";
  }
  const origin = request.headers.get("origin");
  if (origin) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-credentials"] = "true";
    headers.vary = "Origin";
  }
  return headers;
}
