/**
 * Who is asking: a person opening or clicking, or a machine fetching ahead of them. Prefetches
 * and link scanners get the neutral fallback image (so what they cache shows nothing personal)
 * and their clicks are not recorded as the customer's.
 *
 * Gmail's image proxy fetches when the message is opened, so it is a person; Apple Mail Privacy
 * Protection prefetches through proxies that send no telling header, so it cannot be told apart
 * (docs/content.md).
 */

/** User agents of security scanners and link previewers that fetch every URL of a message. */
const MACHINE_AGENTS = [/barracuda/i, /mimecast/i, /proofpoint/i, /bingpreview/i, /slackbot/i, /linkexpanding/i, /skypeuripreview/i, /microsoft office\/\S+ \(windows nt [^;]+; microsoft (outlook|word)/i, /googlebot/i, /headlesschrome/i];

export function isPrefetch(headers: Headers): boolean {
  const purpose = `${headers.get("sec-purpose") ?? ""} ${headers.get("purpose") ?? ""} ${headers.get("x-purpose") ?? ""} ${headers.get("x-moz") ?? ""}`.toLowerCase();
  if (purpose.includes("prefetch") || purpose.includes("preview")) return true;
  const agent = headers.get("user-agent") ?? "";
  return MACHINE_AGENTS.some((re) => re.test(agent));
}
