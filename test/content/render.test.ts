import { beforeEach, describe, expect, it, vi } from "vitest";
import { currentManifest } from "../../src/content/manifest";
import { publishedTarget, renderBlock } from "../../src/content/render";
import { signContent } from "../../src/content/links";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, bearer, env, eventually, getCustomer, KEYS, uid } from "../helpers";
import { CARD, fetchUrl, forgetCatalogCache, GRID, linksOf, putBlock, shopper } from "../content-helpers";
import { track } from "../trigger-helpers";

beforeEach(() => forgetCatalogCache());

/** Publishes a card partial and a grid that renders it; returns the grid's id. */
async function publishGrid(): Promise<string> {
  const card = uid("card");
  const grid = uid("grid");
  expect((await putBlock(card, CARD)).status).toBe(201);
  expect((await putBlock(grid, GRID(card))).status).toBe(201);
  return grid;
}

const withoutRequestId = (res: Response) => [...res.headers].filter(([k]) => k !== "x-request-id");

describe("HTML for send-time calls (Braze Connected Content, Customer.io, Klaviyo web feeds)", () => {
  it("renders the customer's recommendations with the catalog's prices, CSS inlined, traits escaped", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const links = await linksOf(grid, userId);
    const res = await fetchUrl(links.token.html);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, max-age=300");
    const html = await res.text();
    // Recently viewed, newest first, then popular: never the purchased mug, the sold-out sofa or
    // the desk already in the cart.
    const names = [...html.matchAll(/<p class="name"[^>]*>([^<]*)<\/p>/g)].map((m) => m[1]);
    expect(names.slice(0, 2)).toEqual(["Chair", "Lamp"]);
    for (const gone of ["Mug", "Sofa", "Desk"]) expect(names).not.toContain(gone);
    // The catalog's price (99.50) beats the event's (120), formatted for the customer's locale.
    expect(html).toContain("€99.50");
    expect(html).toContain(`src="https://cdn.shop.example/chair.jpg?width=200"`);
    expect(html).toContain("2 items in your cart");
    // A trait cannot inject markup.
    expect(html).toContain("Hi &lt;b&gt;Ada&lt;/b&gt;");
    // CSS of the block and of its partial inlined; media queries kept in <style>.
    expect(html).toMatch(/<h1 class="title" style="font-weight: bold; color: #111111;?">/);
    expect(html).toMatch(/<p class="name" style="font-size: 14px; margin: 0;?">Chair<\/p>/);
    expect(html).toMatch(/<style>\s*@media \(max-width:\s?600px\)\s?\{/);
    // Click-time links carry the customer's token, never the raw id alone.
    expect(html).toContain(`/v1/r/${grid}/0?t=${encodeURIComponent(links.contentToken)}`);
  });

  it("parses each template once per published version, not per request", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    // The render path the route takes, called here so that the engine can be observed.
    const manifest = await currentManifest(env);
    const target = publishedTarget(manifest, grid)!;
    // liquidjs looks each template up in the engine's cache and parses it on a miss.
    const cache = manifest.markup.options.cache;
    expect(cache).toBeDefined();
    const lookups = vi.spyOn(cache!, "read");
    const parsed = () => lookups.mock.results.filter((r) => r.value === undefined).length;
    try {
      const render = () => renderBlock(env, target, "html", { customerRef: userId, origin: "https://r.example" });
      expect((await render()).fallback).toBeNull();
      expect(parsed()).toBe(2); // the grid and its card partial
      for (let i = 0; i < 5; i++) await render();
      expect(lookups.mock.calls.length).toBeGreaterThan(10);
      expect(parsed()).toBe(2);
      expect(publishedTarget(await currentManifest(env), grid)!.markup).toBe(target.markup);
    } finally {
      lookups.mockRestore();
    }
  });

  it("answers the same body to repeated calls, and 304 to a conditional one", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const { token } = await linksOf(grid, userId);
    const first = await fetchUrl(token.html);
    const body = await first.text();
    const second = await fetchUrl(token.html);
    expect(await second.text()).toBe(body);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    const conditional = await fetchUrl(token.html, { "if-none-match": first.headers.get("etag")! });
    expect(conditional.status).toBe(304);
  });

  it("accepts an HMAC signature over block and customer (what ESP Liquid computes), with expiry", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const sig = await signContent("csec_local_demo", grid, userId, exp);
    const ok = await api(`/v1/content/${grid}.html?c=${userId}&exp=${exp}&sig=${sig}`);
    expect(await ok.text()).toContain("Chair");
    const links = await linksOf(grid, userId, 3600);
    expect(await (await fetchUrl(links.signed.html)).text()).toContain("Chair");
    // Expired, for another block, or tampered: the fallback.
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = await api(`/v1/content/${grid}.html?c=${userId}&exp=${past}&sig=${await signContent("csec_local_demo", grid, userId, past)}`);
    expect(await expired.text()).toBe(`<p class="title" style="font-weight: bold; color: #111111;">Our bestsellers</p>`);
    const otherBlock = await api(`/v1/content/${grid}.html?c=${userId}&sig=${await signContent("csec_local_demo", "other", userId)}`);
    expect(await otherBlock.text()).toContain("Our bestsellers");
  });

  it("answers a bad link exactly like an unknown customer: same status, headers and fallback", async () => {
    const grid = await publishGrid();
    const { userId, p } = await shopper();
    const { contentToken } = await linksOf(grid, userId);
    // The fallback lists bestsellers: the shopper's catalog change (a job) must have landed, or
    // two of the answers could show the catalog before and after it.
    await eventually(async () => ((await (await admin(`/v1/catalog/products/${p("chair")}`)).json()) as { price?: number }).price === 99.5, "the catalog change");
    forgetCatalogCache();
    const unknownSig = await signContent("csec_local_demo", grid, "nobody");
    const [forged, unknown, bare, raw] = await Promise.all([
      api(`/v1/content/${grid}.html?t=${encodeURIComponent(`${contentToken.slice(0, -2)}AA`)}`),
      api(`/v1/content/${grid}.html?c=nobody&sig=${unknownSig}`),
      api(`/v1/content/${grid}.html?c=${userId}`),
      api(`/v1/content/${grid}.html?customer=${userId}`),
    ]);
    const bodies = await Promise.all([forged, unknown, bare, raw].map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toContain("Our bestsellers");
    for (const r of [unknown, bare, raw]) expect(withoutRequestId(r)).toEqual(withoutRequestId(forged));
    expect(forged.status).toBe(200);
    expect(forged.headers.get("cache-control")).toContain("no-store");
  });

  it("takes raw ids only with a read key", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const res = await api(`/v1/content/${grid}.html?customer=${encodeURIComponent(`user_id:${userId}`)}`, { headers: { authorization: bearer(KEYS.read) } });
    expect(await res.text()).toContain("Chair");
    const wrongKey = await api(`/v1/content/${grid}.html?customer=${userId}`, { headers: { authorization: bearer(KEYS.write) } });
    expect(wrongKey.status).toBe(401);
  });

  it("renders the fallback when the template fails at render time or runs past its limits", async () => {
    const id = uid("slow");
    expect((await putBlock(id, { html: "{% for i in (1..100000000) %}{{ i }}{% endfor %}", fallback: "<p>Shop now</p>" })).status).toBe(201);
    const { userId } = await shopper();
    const res = await fetchUrl((await linksOf(id, userId)).token.html);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("<p>Shop now</p>");
  });

  it("404s an unknown block or format, saying nothing about customers", async () => {
    expect((await api("/v1/content/nope.html?t=x")).status).toBe(404);
    const grid = await publishGrid();
    expect((await api(`/v1/content/${grid}.pdf`)).status).toBe(404);
    expect((await api(`/v1/content/${grid}.png`)).status).toBe(404);
  });

  it("gives ESPs the token with the profile", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const profile = (await (await getCustomer(userId)).json()) as { contentToken: string; id: string };
    expect(profile.contentToken).toBe((await linksOf(grid, userId)).contentToken);
    expect(profile.contentToken.startsWith(`${profile.id}.`)).toBe(true);
  });

  it("ranks popular products by views, cart adds and purchases, for customers with no history", async () => {
    const tag = uid("pop");
    const grid = uid("popular");
    expect((await putBlock(grid, { html: `{% for p in products %}{{ p.id }},{% endfor %}`, products: { source: "popular", limit: 24 } })).status).toBe(201);
    const viewers = Array.from({ length: 4 }, () => uid("viewer"));
    await processEvents(env, [
      ...viewers.map((userId) => track({ userId }, "Product Viewed", { product_id: `${tag}-often-viewed`, name: "A" }, 1)),
      track({ userId: viewers[0] }, "Product Added", { product_id: `${tag}-added`, name: "B" }, 1),
      track({ userId: viewers[1] }, "Order Completed", { order_id: "o", products: [{ product_id: `${tag}-bought`, name: "C" }] }, 1),
      track({ userId: viewers[3] }, "Product Viewed", { product_id: `${tag}-once`, name: "D" }, 1),
    ]);
    const newcomer = uid("new");
    await processEvents(env, [track({ userId: newcomer }, "Page Viewed", {}, 0)]);
    const ids = (await (await fetchUrl((await linksOf(grid, newcomer)).token.html)).text()).split(",").filter((id) => id.startsWith(tag));
    // Scores: bought 5 (a purchase), often-viewed 4 (four views), added 3 (a cart add), once 1.
    expect(ids).toEqual([`${tag}-bought`, `${tag}-often-viewed`, `${tag}-added`, `${tag}-once`]);
  });
});

describe("JSON for AMP amp-list and ESPs that template JSON", () => {
  it("serves the block's products as items by default, with AMP CORS for both versions", async () => {
    const grid = await publishGrid();
    const { userId } = await shopper();
    const { token } = await linksOf(grid, userId);
    const res = await fetchUrl(`${token.json}&__amp_source_origin=${encodeURIComponent("news@shop.example")}`, { "amp-email-sender": "news@shop.example", origin: "https://mail.google.com" });
    expect(res.headers.get("amp-email-allow-sender")).toBe("news@shop.example");
    expect(res.headers.get("amp-access-control-allow-source-origin")).toBe("news@shop.example");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://mail.google.com");
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    const body = (await res.json()) as { items: { name: string; price: number; click_url: string }[] };
    expect(body.items.slice(0, 2).map((i) => [i.name, i.price])).toEqual([["Chair", 99.5], ["Lamp", 40]]);
    expect(body.items[0]!.click_url).toContain(`/v1/r/${grid}/0?t=`);
  });

  it("renders a JSON template, and falls back to empty items when its output is not JSON", async () => {
    const id = uid("json");
    await putBlock(id, { html: "x", json: `{"first_name": {{ customer.first_name | json }}, "cart": {{ cart.item_count }}, "total": {{ cart.value | json }}}` });
    const broken = uid("broken");
    await putBlock(broken, { html: "x", json: `{"name": {{ customer.first_name }}}` });
    const { userId } = await shopper();
    expect(await (await fetchUrl((await linksOf(id, userId)).token.json)).json()).toEqual({ first_name: "<b>Ada</b>", cart: 2, total: 600 });
    expect(await (await fetchUrl((await linksOf(broken, userId)).token.json)).json()).toEqual({ items: [] });
  });
});
