/**
 * Whether Rapport may call a URL an admin configured (trigger destinations, enrichers): only
 * public HTTP(S) hosts. Loopback, private (RFC 1918, RFC 4193), link-local (and so the cloud
 * metadata address 169.254.169.254), CGNAT, reserved and multicast addresses are refused in every
 * spelling: the WHATWG URL parser first turns `2130706433`, `0177.0.0.1`, `0x7f.1` and
 * `127.0.0.1.` into `127.0.0.1`, and IPv6 forms that carry an IPv4 address (`::ffff:…`, NAT64,
 * 6to4) are judged by that address. Names that only resolve inside a network (`localhost`,
 * `*.internal`, single labels) are refused too. A deployed Worker cannot reach private networks
 * anyway; the local runtime can, and this is the check that holds in both.
 *
 * Local development needs the demo receiver on 127.0.0.1: `ALLOW_PRIVATE_OUTBOUND = "true"`
 * (set in wrangler.toml's local section only) lets private hosts through, and plain http to them.
 */
import { ApiError } from "./errors";

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export interface OutboundPolicy {
  /** Private and loopback hosts allowed (local development only). */
  allowPrivate: boolean;
  /** Public hosts must be https (trigger destinations: payloads carry customer data). */
  httpsOnly?: boolean;
}

const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain", ".corp"];

export function checkOutboundUrl(raw: string, policy: OutboundPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: `must be an http(s) URL, not ${url.protocol}` };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials (use a header or a named secret)" };
  const host = url.hostname.replace(/\.+$/, "").toLowerCase();
  const privateReason = privateHostReason(host);
  if (privateReason) {
    if (!policy.allowPrivate) return { ok: false, reason: `must be a public host: ${privateReason} (ALLOW_PRIVATE_OUTBOUND is off)` };
    return { ok: true, url };
  }
  if (policy.httpsOnly && url.protocol !== "https:") return { ok: false, reason: "must be https" };
  return { ok: true, url };
}

/** Why a host (as the URL parser normalized it) is not public, or null. */
export function privateHostReason(host: string): string | null {
  if (host.startsWith("[")) {
    const words = parseIPv6(host.slice(1, -1));
    return words ? ipv6Reason(words) : "an address that cannot be read";
  }
  const v4 = parseIPv4(host);
  if (v4 !== null) return ipv4Reason(v4);
  if (host === "localhost" || INTERNAL_SUFFIXES.some((s) => host.endsWith(s))) return `${host} is a local or internal name`;
  if (!host.includes(".")) return `${host} is a single-label name, resolved only inside a network`;
  return null;
}

/** A dotted IPv4 address as the URL parser writes it (`127.0.0.1`), as a number, or null. */
function parseIPv4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** [network, prefix length, what it is]: the IPv4 ranges that are not the public internet. */
const IPV4_RANGES: [string, number, string][] = [
  ["0.0.0.0", 8, "this network"],
  ["10.0.0.0", 8, "private (RFC 1918)"],
  ["100.64.0.0", 10, "shared address space (CGNAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private (RFC 1918)"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay"],
  ["192.168.0.0", 16, "private (RFC 1918)"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4Reason(ip: number): string | null {
  for (const [network, bits, what] of IPV4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((ip & mask) >>> 0 === (parseIPv4(network)! & mask) >>> 0) return `${formatIPv4(ip)} is ${what}`;
  }
  return null;
}

const formatIPv4 = (ip: number) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");

/** Eight 16-bit words, or null. Accepts `::` and a dotted IPv4 tail. */
export function parseIPv6(text: string): number[] | null {
  let s = text.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const words = (part: string) => (part === "" ? [] : part.split(":").map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN)));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest];
  if (all.some((w) => Number.isNaN(w))) return null;
  if (tail.length === 2) all.splice(6, 2, ...tail);
  return all;
}

function ipv6Reason(w: number[]): string | null {
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  if (zeros(0, 8)) return "[::] is the unspecified address";
  if (zeros(0, 7) && w[7] === 1) return "[::1] is loopback";
  // Forms that carry an IPv4 address are judged by it (mapped, compatible, NAT64, 6to4).
  if (zeros(0, 5) && w[5] === 0xffff) return ipv4Reason(v4(w[6]!, w[7]!)) ?? null;
  if (zeros(0, 6)) return ipv4Reason(v4(w[6]!, w[7]!)) ?? "an IPv4-compatible address";
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return ipv4Reason(v4(w[6]!, w[7]!));
  if (w[0] === 0x2002) return ipv4Reason(v4(w[1]!, w[2]!));
  if ((w[0]! & 0xfe00) === 0xfc00) return "a unique local address (RFC 4193)";
  if ((w[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((w[0]! & 0xffc0) === 0xfec0) return "site-local";
  if ((w[0]! & 0xff00) === 0xff00) return "multicast";
  if (w[0] === 0x2001 && w[1] === 0x0db8) return "documentation";
  if (w[0] === 0x2001 && w[1] === 0) return "Teredo";
  if (w[0] === 0x0100 && zeros(1, 4)) return "discard-only";
  return null;
}

/** The deployment's policy, for a kind of call. */
export const outboundPolicy = (config: { allowPrivateOutbound: boolean }, httpsOnly = false): OutboundPolicy => ({ allowPrivate: config.allowPrivateOutbound, httpsOnly });

/** Refuses, as a 400 naming `field`, a URL the policy does not allow (at save). */
export function requireOutboundUrl(url: string, field: string, policy: OutboundPolicy): void {
  const verdict = checkOutboundUrl(url, policy);
  if (!verdict.ok) throw new ApiError("validation_failed", `${field} ${verdict.reason}`, [{ field, message: verdict.reason }]);
}

const MAX_REDIRECTS = 5;

/**
 * fetch() to an admin-configured URL: the URL, and every redirect's target, checked against the
 * policy before it is called. Redirects are followed by hand (at most five) so that none can lead
 * to a private address. Throws OutboundRefused when one is refused.
 */
export async function fetchOutbound(url: string, init: RequestInit, policy: OutboundPolicy, fetchImpl: typeof fetch = fetch): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    const verdict = checkOutboundUrl(target, policy);
    if (!verdict.ok) throw new OutboundRefused(`${hop === 0 ? "The URL" : `Redirect ${hop} (${target})`} ${verdict.reason}`);
    const res = await fetchImpl(verdict.url.href, { ...init, redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) return res;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new OutboundRefused(`More than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, verdict.url).href;
  }
}

export class OutboundRefused extends Error {
  override name = "OutboundRefused";
}
