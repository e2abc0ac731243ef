import { beforeEach, describe, expect, it } from "vitest";
import { BudgetExceeded, withinBudget } from "../../src/kernel/concurrency";
import { ampHeaders, senderAllowed } from "../../src/content/amp";
import { clickDestination } from "../../src/content/clicks";
import { BlockDefinition } from "../../src/content/definition";
import { partialsOf, syntaxErrors } from "../../src/content/engine";
import { countdown, imageSize, money, pluralize } from "../../src/content/filters";
import { contentToken, signContent, verifyContentSignature, verifyContentToken } from "../../src/content/links";
import { productCard, recommend } from "../../src/content/recommendations";
import { isPrefetch } from "../../src/content/requesters";
import { admin, api, bearer, KEYS, uid } from "../helpers";
import { CARD, fetchUrl, forgetCatalogCache, GRID, linksOf, putBlock, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

describe("content filters (pure)", () => {
  it("formats money in the customer's locale, and forgives bad input", () => {
    expect(money(1234.5, "eur", "en-US")).toBe("€1,234.50");
    expect(money(1234.5, "EUR", "de-DE")).toBe("1.234,50\u00a0€");
    expect(money("12", undefined, "en_US")).toBe("$12.00");
    expect(money("abc", "EUR", "en-US")).toBe("");
    expect(money(5, "EUR", "not a locale!!")).toBe("€5.00");
  });
  it("pluralizes, sizes images for CDNs, and counts down", () => {
    expect(pluralize(1, "item", "items")).toBe("1 item");
    expect(pluralize(3, "item", "items")).toBe("3 items");
    expect(pluralize(0, "item", undefined)).toBe("0 items");
    expect(imageSize("https://cdn.shopify.com/s/files/a.jpg?v=1", 300)).toBe("https://cdn.shopify.com/s/files/a.jpg?v=1&width=300");
    expect(imageSize("https://shop.example/cdn-cgi/image/width=800,quality=80/a.jpg", 200)).toBe("https://shop.example/cdn-cgi/image/width=200,quality=80/a.jpg");
    expect(imageSize("not a url", 200)).toBe("not a url");
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(countdown("2026-01-01T02:15:09Z", now)).toBe("02:15:09");
    expect(countdown("2026-01-02T03:00:00Z", now)).toBe("27:00:00");
    expect(countdown("2025-12-31T00:00:00Z", now)).toBe("00:00:00");
    expect(countdown("garbage", now)).toBe("");
  });
});

describe("time budget", () => {
  it("gives up on work that takes longer than its budget, and passes on work that does not", async () => {
    const slow = new Promise((resolve) => setTimeout(() => resolve("late"), 300));
    await expect(withinBudget(30, slow)).rejects.toBeInstanceOf(BudgetExceeded);
    expect(await withinBudget(300, Promise.resolve("on time"))).toBe("on time");
    await expect(withinBudget(300, Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });
});

describe("templates (pure)", () => {
  const def = (html: string, extra: Record<string, unknown> = {}) => BlockDefinition.parse({ html, ...extra });

  it("reports syntax errors with the field, line and column, unknown filters included", () => {
    expect(syntaxErrors(def("<p>\n  {% if customer.first_name %}\n hi"))).toEqual([expect.objectContaining({ field: "html", line: 2, column: 3 })]);
    const [unknown] = syntaxErrors(def("ok", { json: '{"a": {{ x | jsonn }}}' }));
    expect(unknown).toMatchObject({ field: "json", line: 1 });
    expect(unknown!.message).toMatch(/undefined filter: jsonn/);
    expect(syntaxErrors(def("{{ 12 | money: 'EUR' }} {{ 2 | pluralize: 'a', 'b' }}"))).toEqual([]);
  });

  it("finds the blocks a template renders", () => {
    expect(partialsOf(def(`{% render "card", product: p %}{%- include 'footer' -%}`, { image: { width: 10, height: 10, svg: '{% render "badge.svg" %}' } }))).toEqual(["badge", "card", "footer"]);
  });
});

describe("recommendations (pure)", () => {
  const at = "2026-01-01T00:00:00.000Z";
  const session = {
    current: null,
    sessionCount: 1,
    lastActivityAt: null,
    recentViews: [
      { productId: "chair", name: "Chair", price: 120, viewedAt: at },
      { productId: "mug", name: "Mug", viewedAt: at },
      { productId: "sofa", name: "Sofa", viewedAt: at },
      { productId: "desk", name: "Desk", viewedAt: at },
    ],
    cart: { items: [{ productId: "desk", quantity: 1, addedAt: at }], itemCount: 1, value: 0, updatedAt: at },
    lastOrderAt: at,
    purchased: [{ productId: "mug", purchasedAt: at }],
    device: null,
    page: null,
    timeZone: null,
  };
  const stored = (id: string, inStock: boolean | null, price: number | null = null) => [id, { id, price, currency: "EUR", inStock, data: { name: id.toUpperCase(), url: `https://shop.example/${id}` } }] as const;
  const catalog = new Map([stored("chair", true, 99), stored("sofa", false), stored("lamp", true), stored("mug", true), stored("vase", null)]);

  it("leaves out what was bought, what is out of stock, and (for recommended) what is in the cart", () => {
    const r = recommend(session, catalog, ["mug", "lamp", "sofa", "desk", "vase", "ghost"], { limit: 10, inStockOnly: true });
    expect(r.recently_viewed.map((p) => p.id)).toEqual(["chair", "desk"]);
    expect(r.recommended.map((p) => p.id)).toEqual(["chair", "lamp", "vase"]);
    expect(r.popular.map((p) => p.id)).toEqual(["lamp", "vase"]);
    expect(r.purchased.map((p) => p.id)).toEqual(["mug"]);
    expect(r.cart).toEqual([expect.objectContaining({ id: "desk", quantity: 1 })]);
  });

  it("takes name, price and stock from the catalog over what the event said", () => {
    expect(productCard("chair", session.recentViews[0], catalog.get("chair"))).toMatchObject({ name: "CHAIR", price: 99, currency: "EUR", in_stock: true, url: "https://shop.example/chair" });
    expect(productCard("new", { productId: "new", name: "New", price: 5, imageUrl: "https://i/x.png" }, undefined)).toMatchObject({ name: "New", price: 5, image_url: "https://i/x.png", in_stock: null });
  });

  it("keeps out-of-stock products when the block asks to", () => {
    const r = recommend(session, catalog, [], { limit: 10, inStockOnly: false });
    expect(r.recently_viewed.map((p) => p.id)).toEqual(["chair", "sofa", "desk"]);
  });

  it("sends a click to the product of its slot, or the next one with a URL, or the block's fallback URL", () => {
    const d = BlockDefinition.parse({ html: "x", links: { fallbackUrl: "https://shop.example/" } });
    const card = (id: string, url: string | null) => ({ ...productCard(id, { productId: id }, undefined), url });
    expect(clickDestination([card("a", "https://shop.example/a"), card("b", "https://shop.example/b")], 1, d)?.url).toBe("https://shop.example/b");
    expect(clickDestination([card("a", "https://shop.example/a"), card("b", "javascript:alert(1)")], 1, d)?.url).toBe("https://shop.example/a");
    expect(clickDestination([], 0, d)).toEqual({ url: "https://shop.example/", product: null });
    expect(clickDestination([], 0, BlockDefinition.parse({ html: "x" }))).toBeNull();
  });
});

describe("content links (pure)", () => {
  it("tokens name one customer, verify with any current secret, and cannot be forged or moved", async () => {
    const token = await contentToken(["new", "old"], "cus_1");
    expect(await verifyContentToken(["new", "old"], token)).toBe("cus_1");
    // During a rotation, links signed with the old secret still work.
    expect(await verifyContentToken(["newer", "new"], token)).toBe("cus_1");
    expect(await verifyContentToken(["other"], token)).toBeNull();
    const mac = token.split(".")[1];
    expect(await verifyContentToken(["new"], `cus_2.${mac}`)).toBeNull();
    expect(await verifyContentToken(["new"], "cus_1")).toBeNull();
    expect(await verifyContentToken(["new"], "cus_1.!!!")).toBeNull();
  });

  it("signatures cover block, customer and expiry", async () => {
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 60;
    const sig = await signContent("s", "grid", "user-1", exp);
    expect(await verifyContentSignature(["s"], "grid", "user-1", String(exp), sig, now)).toBe(true);
    expect(await verifyContentSignature(["s"], "hero", "user-1", String(exp), sig, now)).toBe(false);
    expect(await verifyContentSignature(["s"], "grid", "user-2", String(exp), sig, now)).toBe(false);
    expect(await verifyContentSignature(["s"], "grid", "user-1", String(exp + 1), sig, now)).toBe(false);
    expect(await verifyContentSignature(["s"], "grid", "user-1", String(exp), sig, now + 61_000)).toBe(false);
    expect(await verifyContentSignature(["s"], "grid", "user-1", undefined, await signContent("s", "grid", "user-1"), now)).toBe(true);
    expect(await verifyContentSignature(["s"], "grid", "user-1", undefined, "zz", now)).toBe(false);
  });

  it("the signature is what an ESP's hmac_sha256 Liquid filter computes", async () => {
    // HMAC-SHA256("s", "grid:user-1:") computed independently (openssl dgst -sha256 -hmac s).
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("s"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("grid:user-1:")))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await signContent("s", "grid", "user-1")).toBe(expected);
  });

  it("AMP CORS: echoes allowed senders (both versions), refuses others", () => {
    const url = new URL("https://r.example/v1/content/grid.json?t=x&__amp_source_origin=news%40shop.example");
    const headers = new Headers({ "amp-email-sender": "news@shop.example", origin: "https://mail.google.com" });
    expect(ampHeaders({ headers, url }, [])).toEqual({
      "amp-email-allow-sender": "news@shop.example",
      "amp-access-control-allow-source-origin": "news@shop.example",
      "access-control-expose-headers": "AMP-Access-Control-Allow-Source-Origin",
      "access-control-allow-origin": "https://mail.google.com",
      "access-control-allow-credentials": "true",
      vary: "Origin",
    });
    expect(ampHeaders({ headers, url }, ["@shop.example"])).not.toBeNull();
    expect(ampHeaders({ headers, url }, ["@other.example"])).toBeNull();
    expect(senderAllowed("News@Shop.example", ["news@shop.example"])).toBe(true);
  });

  it("tells prefetchers and link scanners from people", () => {
    expect(isPrefetch(new Headers({ "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36" }))).toBe(false);
    expect(isPrefetch(new Headers({ "user-agent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" }))).toBe(false);
    expect(isPrefetch(new Headers({ "sec-purpose": "prefetch" }))).toBe(true);
    expect(isPrefetch(new Headers({ "user-agent": "Barracuda Sentinel (EE)" }))).toBe(true);
  });
});

describe("/v1/blocks: versions, publish, rollback", () => {
  it("refuses a template that does not parse, naming field, line and column", async () => {
    const res = await putBlock(uid("bad"), { html: "<p>\n{% for p in products %}\n{{ p.name }}" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { field: string; line: number; column: number; message: string }[]; requestId: string };
    expect(body.errors).toEqual([expect.objectContaining({ field: "html", line: 2, column: 1 })]);
    expect(body.errors[0]!.message).toMatch(/not closed/);
    expect(body.requestId).toBeTruthy();
  });

  it("serves nothing until published; publishes, keeps drafts apart, rolls back", async () => {
    const id = uid("hero");
    const { userId } = await shopper();
    const token = async () => (await linksOf(id, userId)).token.html;
    expect((await putBlock(id, { html: "<p>v1 {{ customer.user_id }}</p>" }, false)).status).toBe(201);
    expect((await fetchUrl(await token())).status).toBe(404);

    // A body that is not JSON is refused, not read as "publish the newest".
    const garbled = await admin(`/v1/blocks/${id}/publish`, { method: "POST", body: "{version: 1" });
    expect(garbled.status).toBe(400);
    expect(garbled.headers.get("content-type")).toBe("application/problem+json");
    expect((await fetchUrl(await token())).status).toBe(404);
    expect((await admin(`/v1/blocks/${id}/publish`, { method: "POST" })).status).toBe(200);
    const url = await token();
    expect(await (await fetchUrl(url)).text()).toBe(`<p>v1 ${userId}</p>`);

    // A new version is a draft: the edge keeps serving version 1 until it is published.
    const v2 = await admin(`/v1/blocks/${id}`, { method: "PUT", headers: { "if-match": '"1"' }, body: JSON.stringify({ html: "<p>v2</p>" }) });
    expect(v2.status).toBe(200);
    expect(await v2.json()).toMatchObject({ version: 2, publishedVersion: 1 });
    expect(await (await fetchUrl(url)).text()).toBe(`<p>v1 ${userId}</p>`);
    const stale = await admin(`/v1/blocks/${id}`, { method: "PUT", headers: { "if-match": '"1"' }, body: JSON.stringify({ html: "<p>v3</p>" }) });
    expect(stale.status).toBe(412);

    await admin(`/v1/blocks/${id}/publish`, { method: "POST", body: JSON.stringify({ version: 2 }) });
    expect(await (await fetchUrl(url)).text()).toBe("<p>v2</p>");
    const rolled = await admin(`/v1/blocks/${id}/rollback`, { method: "POST", body: JSON.stringify({ version: 1 }) });
    expect(rolled.status).toBe(200);
    expect(await (await fetchUrl(url)).text()).toBe(`<p>v1 ${userId}</p>`);
    const versions = (await (await admin(`/v1/blocks/${id}/versions`)).json()) as { versions: { version: number }[] };
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(await (await admin(`/v1/blocks/${id}`)).json()).toMatchObject({ version: 2, publishedVersion: 1 });
  });

  it("will not publish a block whose partial is unpublished, nor delete a partial in use", async () => {
    const card = uid("card");
    const grid = uid("grid");
    expect((await putBlock(card, CARD, false)).status).toBe(201);
    const refused = await putBlock(grid, GRID(card));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toContain(card);
    await admin(`/v1/blocks/${card}/publish`, { method: "POST" });
    expect((await admin(`/v1/blocks/${grid}/publish`, { method: "POST" })).status).toBe(200);
    const del = await admin(`/v1/blocks/${card}`, { method: "DELETE" });
    expect(del.status).toBe(409);
    expect(await del.json()).toMatchObject({ dependents: [grid] });
    expect((await admin(`/v1/blocks/${grid}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/v1/blocks/${card}`, { method: "DELETE" })).status).toBe(204);
  });

  it("needs an admin key", async () => {
    expect((await api("/v1/blocks", { headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
    expect((await api("/v1/blocks/x", { method: "PUT", body: "{}" })).status).toBe(401);
  });
});
