import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { edgeFacts, enrichContext } from "../../src/ingest/enrich";
import { api, basic, env, eventually, KEYS, uid } from "../helpers";

const CF = { country: "FR", region: "Auvergne-Rhône-Alpes", regionCode: "ARA", city: "Lyon", postalCode: "69001", continent: "EU", timezone: "Europe/Paris" };

/** A request as Cloudflare hands it to the worker, with its `cf` facts. */
async function send(body: unknown, headers: Record<string, string>) {
  const request = new Request("http://rapport.test/v1/batch", { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "text/plain", ...headers }, body: JSON.stringify(body), cf: CF } as RequestInit);
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function storedEvents(userId: string) {
  return eventually(async () => {
    const res = await api(`/v1/customers/${userId}/events`, { headers: { authorization: `Bearer ${KEYS.read}` } });
    const body = res.ok ? ((await res.json()) as { events: { messageId: string; context?: Record<string, any> }[] }) : null;
    return body && body.events.length >= 1 ? body.events : null;
  }, `events of ${userId}`);
}

describe("enrichment at the edge", () => {
  it("adds the browser's place and time zone where the client said nothing, marked, and never over what it said", () => {
    const facts = edgeFacts(CF, "https://shop.example");
    expect(enrichContext(undefined, facts)).toEqual({ timezone: "Europe/Paris", location: { country: "FR", region: "Auvergne-Rhône-Alpes", regionCode: "ARA", city: "Lyon", postalCode: "69001", continent: "EU" }, enrichedBy: { timezone: "cloudflare", location: "cloudflare" } });
    const own = enrichContext({ timezone: "America/New_York", location: { city: "Paris" } }, facts)!;
    expect(own.timezone).toBe("America/New_York");
    expect(own.location).toMatchObject({ city: "Paris", country: "FR" });
    expect(own.enrichedBy).toEqual({ location: "cloudflare" });
    // A server's request (no Origin) says where the server is: nothing is added.
    expect(edgeFacts(CF, undefined)).toBeNull();
  });

  it("parses the user agent into device type, OS and browser, where the client said nothing", () => {
    const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    expect(enrichContext({ userAgent: iphone }, null)).toMatchObject({ device: { type: "mobile", manufacturer: "Apple", model: "iPhone" }, os: { name: "iOS", version: "17.4" }, browser: { name: "Safari", version: "17.4" }, enrichedBy: { device: "user-agent", os: "user-agent", browser: "user-agent" } });
    const linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
    const own = enrichContext({ userAgent: linux, os: { name: "ChromeOS" } }, null)!;
    expect(own.os).toEqual({ name: "ChromeOS" });
    expect(own).toMatchObject({ device: { type: "desktop" }, browser: { name: "Chrome" } });
    expect(enrichContext({ locale: "fr" }, null)).toEqual({ locale: "fr" });
    // An empty object says nothing: like device and OS, the browser is filled in.
    expect(enrichContext({ userAgent: linux, browser: {} }, null)).toMatchObject({ browser: { name: "Chrome" }, enrichedBy: { browser: "user-agent" } });
  });

  it("reaches the stored events and the session's time zone (quiet hours, local send times)", async () => {
    const [browser, server] = [uid("browser"), uid("server")];
    expect((await send({ batch: [{ type: "track", userId: browser, event: "Product Viewed", properties: { product_id: "p" } }] }, { origin: "https://shop.example" })).status).toBe(200);
    expect((await send({ batch: [{ type: "track", userId: server, event: "Product Viewed", properties: { product_id: "p" } }] }, {})).status).toBe(200);
    const [fromBrowser] = await storedEvents(browser);
    expect(fromBrowser!.context).toMatchObject({ timezone: "Europe/Paris", location: { country: "FR", city: "Lyon" }, enrichedBy: { timezone: "cloudflare" } });
    const [fromServer] = await storedEvents(server);
    expect(fromServer!.context?.timezone).toBeUndefined();
    const profile = await eventually(async () => {
      const p = (await (await api(`/v1/customers/${browser}`, { headers: { authorization: `Bearer ${KEYS.read}` } })).json()) as { session: { timeZone: string | null } | null };
      return p.session?.timeZone ? p : null;
    }, "the session's time zone");
    expect(profile.session!.timeZone).toBe("Europe/Paris");
  });
});
