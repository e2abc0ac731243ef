/**
 * Who is asking: a person opening or clicking, or a machine fetching ahead of them. Prefetches
 * and link scanners get the neutral fallback image (so what they cache shows nothing personal)
 * and their clicks are not recorded as the customer's.
 *
 * Gmail's image proxy fetches when the message is opened, so it is a person. Apple Mail Privacy
 * Protection prefetches at delivery: it is served the customer's content (the person sees that
 * copy later) but its fetch is a machine open, not an exposure (classifyRequester; docs/content.md,
 * docs/experiments.md).
 */

/** User agents of security scanners and link previewers that fetch every URL of a message. */
const MACHINE_AGENTS = [/barracuda/i, /mimecast/i, /proofpoint/i, /bingpreview/i, /slackbot/i, /linkexpanding/i, /skypeuripreview/i, /microsoft office\/\S+ \(windows nt [^;]+; microsoft (outlook|word)/i, /googlebot/i, /headlesschrome/i];

export function isPrefetch(headers: Headers): boolean {
  const purpose = `${headers.get("sec-purpose") ?? ""} ${headers.get("purpose") ?? ""} ${headers.get("x-purpose") ?? ""} ${headers.get("x-moz") ?? ""}`.toLowerCase();
  if (purpose.includes("prefetch") || purpose.includes("preview")) return true;
  const agent = headers.get("user-agent") ?? "";
  return MACHINE_AGENTS.some((re) => re.test(agent));
}

/** Who made an open or click request, and why we think so (exposures count only people). */
export interface Requester {
  kind: "human" | "machine_open" | "scanner";
  reason: string;
}

/**
 * Apple Mail Privacy Protection fetches every image at delivery through Apple's own addresses
 * (17.0.0.0/8, Apple's since 1990) with a bare `Mozilla/5.0` user agent: the content it fetches is
 * shown to the person later, but the fetch says nothing about whether they looked.
 */
function isAppleProxy(headers: Headers): string | null {
  const ip = headers.get("cf-connecting-ip") ?? "";
  if (/^17\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)) return "apple_mpp_address";
  if ((headers.get("user-agent") ?? "").trim() === "Mozilla/5.0") return "apple_mpp_agent";
  return null;
}

export function classifyRequester(method: string, headers: Headers): Requester {
  if (method === "HEAD") return { kind: "scanner", reason: "head_request" };
  if (isPrefetch(headers)) return { kind: "scanner", reason: /prefetch|preview/i.test(`${headers.get("sec-purpose")}${headers.get("purpose")}${headers.get("x-purpose")}${headers.get("x-moz")}`) ? "prefetch" : "scanner_agent" };
  const apple = isAppleProxy(headers);
  if (apple) return { kind: "machine_open", reason: apple };
  if (/GoogleImageProxy/i.test(headers.get("user-agent") ?? "")) return { kind: "human", reason: "gmail_image_proxy" };
  return { kind: "human", reason: "browser" };
}
