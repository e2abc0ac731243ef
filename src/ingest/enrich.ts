/**
 * Enrichment at the edge: where a browser's request came from, from Cloudflare's `request.cf`
 * (country, region, city, postal code, continent, time zone), added to the messages' context when
 * the client sent none. So quiet hours and local send times work without asking the customer.
 *
 * Only for requests a browser made (they carry `Origin`): a server-side SDK's request says where
 * the server is, not the customer. What the client sent always wins, field by field, and what was
 * added is marked in `context.enrichedBy`.
 *
 * And the device: `context.userAgent` (any message's: server SDKs forward the customer's) parsed
 * by bowser into `device.type`, `os` and `browser`, where the client sent none.
 */
import Bowser from "bowser";
import type { Json } from "../model/events";

export interface EdgeFacts {
  timezone?: string;
  location?: Json;
}

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** The facts of a request, or null when it is not a browser's or `cf` says nothing. */
export function edgeFacts(cf: Record<string, unknown> | undefined, origin: string | undefined): EdgeFacts | null {
  if (!cf || !origin) return null;
  const location = Object.fromEntries(
    Object.entries({ country: text(cf.country), region: text(cf.region), regionCode: text(cf.regionCode), city: text(cf.city), postalCode: text(cf.postalCode), continent: text(cf.continent) }).filter(([, v]) => v !== undefined),
  );
  const facts: EdgeFacts = {};
  if (text(cf.timezone)) facts.timezone = text(cf.timezone);
  if (Object.keys(location).length > 0) facts.location = location;
  return Object.keys(facts).length > 0 ? facts : null;
}

/**
 * What a user agent says, as the objects added to a context. They are built once per user agent
 * and shared by every event that gets them (events are not changed after ingest), because the
 * same few user agents come again and again: kept per isolate.
 */
interface FromUserAgent {
  platform: Bowser.Parser.PlatformDetails;
  os?: Json;
  browser?: Json;
}

const uaCache = new Map<string, FromUserAgent>();

function fromUserAgent(ua: string): FromUserAgent {
  let found = uaCache.get(ua);
  if (!found) {
    const parsed = Bowser.parse(ua);
    found = {
      platform: parsed.platform,
      ...(parsed.os.name ? { os: { name: parsed.os.name, ...(parsed.os.version ? { version: parsed.os.version } : {}) } } : {}),
      ...(parsed.browser.name ? { browser: { name: parsed.browser.name, ...(parsed.browser.version ? { version: parsed.browser.version } : {}) } } : {}),
    };
    if (uaCache.size > 2_000) uaCache.clear();
    uaCache.set(ua, found);
  }
  return found;
}

/** `context` with the edge's facts and the parsed user agent where the client said nothing. */
export function enrichContext(context: Json | undefined, facts: EdgeFacts | null | undefined): Json | undefined {
  const ua = text(context?.userAgent);
  if (!facts && !ua) return context;
  const out: Json = { ...context };
  const enrichedBy: Record<string, string> = {};
  if (ua) {
    const { platform, os, browser } = fromUserAgent(ua.slice(0, 1_000));
    const device = (typeof out.device === "object" && out.device !== null ? out.device : {}) as Json;
    if (!text(device.type) && platform.type) {
      out.device = { ...device, type: platform.type, ...(platform.vendor && !device.manufacturer ? { manufacturer: platform.vendor } : {}), ...(platform.model && !device.model ? { model: platform.model } : {}) };
      enrichedBy.device = "user-agent";
    }
    if ((typeof out.os !== "object" || out.os === null || !text((out.os as Json).name)) && os) {
      out.os = os;
      enrichedBy.os = "user-agent";
    }
    if ((typeof out.browser !== "object" || out.browser === null || !text((out.browser as Json).name)) && browser) {
      out.browser = browser;
      enrichedBy.browser = "user-agent";
    }
  }
  if (facts?.timezone && !text(out.timezone)) {
    out.timezone = facts.timezone;
    enrichedBy.timezone = "cloudflare";
  }
  if (facts?.location) {
    const own = (typeof out.location === "object" && out.location !== null ? out.location : {}) as Json;
    const added = Object.entries(facts.location).filter(([k]) => own[k] === undefined || own[k] === null || own[k] === "");
    if (added.length > 0) {
      out.location = { ...Object.fromEntries(added), ...own };
      enrichedBy.location = "cloudflare";
    }
  }
  if (Object.keys(enrichedBy).length === 0) return context;
  out.enrichedBy = { ...((out.enrichedBy as Json | undefined) ?? {}), ...enrichedBy };
  return out;
}
