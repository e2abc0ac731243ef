import { beforeEach, describe, expect, it } from "vitest";
import { blockFromFiles, publishOrder, type BlockFiles } from "../../src/content/block-files";
import { processEvents } from "../../src/pipeline/process";
import { admin, env, uid } from "../helpers";
import { ev } from "../trigger-helpers";
import { fetchUrl, forgetCatalogCache, linksOf, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

// The demo blocks as `npm start` loads them (scripts/load-blocks.mjs reads the same files).
// (vitest.config.ts lets these stylesheets through: vitest empties CSS files by default.)
const raw = import.meta.glob("../../src/content/blocks/*/*", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const blocks: Record<string, BlockFiles> = {};
for (const [file, text] of Object.entries(raw)) {
  const [, id, name] = file.match(/blocks\/([^/]+)\/([^/]+)$/)!;
  blocks[id!] ??= {};
  blocks[id!]![name!] = text;
}

describe("the demo blocks (src/content/blocks)", () => {
  it("publish partials first, and render a shopper's grid and cart with the catalog's data", async () => {
    expect(publishOrder(blocks)).toEqual(["cart-reminder", "nps-question", "offer", "product-card", "product-grid"]);
    for (const id of publishOrder(blocks)) {
      const res = await admin(`/v1/blocks/${id}?publish=true`, { method: "PUT", body: JSON.stringify(blockFromFiles(blocks[id]!)) });
      expect(res.status, `${id}: ${await res.clone().text()}`).toBeLessThan(300);
    }
    const { userId } = await shopper();
    const grid = await (await fetchUrl((await linksOf("product-grid", userId)).token.html)).text();
    expect(grid).toContain("picked for you");
    expect(grid).toMatch(/<p class="card-name" style="[^"]+">Chair<\/p>/);
    expect(grid).toContain("€99.50");
    // The same grid as an open-time image: the products' names and prices, drawn.
    const gridSvg = await (await fetchUrl((await linksOf("product-grid", userId)).token.svg)).text();
    expect(gridSvg).toMatch(/>Chair<\/text>/);
    expect(gridSvg).toContain(">€99.50</text>");
    const gridPng = new Uint8Array(await (await fetchUrl((await linksOf("product-grid", userId)).token.png)).arrayBuffer());
    expect(new DataView(gridPng.buffer).getUint32(16)).toBe(600);
    const cart = await linksOf("cart-reminder", userId);
    const html = await (await fetchUrl(cart.token.html)).text();
    expect(html).toContain("You left 2 items in your cart");
    expect(html).toContain("€600.00");
    const svg = await (await fetchUrl(cart.token.svg)).text();
    expect(svg).toMatch(/>\d\d:\d\d:\d\d</);
    const png = new Uint8Array(await (await fetchUrl(cart.token.png)).arrayBuffer());
    expect([...png.slice(1, 4)].map((b) => String.fromCharCode(b)).join("")).toBe("PNG");
    expect(new DataView(png.buffer).getUint32(16)).toBe(560); // the block's image width
    // A customer who ordered before gets the returning-customer offer, its end in their time zone.
    const offer = await (await fetchUrl((await linksOf("offer", userId)).token.html)).text();
    expect(offer).toContain("welcome back: <strong>15% off</strong>");
    expect(offer).toContain("Ends Thu 31 Dec, 23:00 (UTC)");
    expect(offer).toMatch(/<a class="button" href="[^"]*\/v1\/r\/offer\/0\?t=/);
    // The demo survey's block: an answer link per score for this customer, and the block's pixel.
    const nps = await (await fetchUrl(`${(await linksOf("nps-question", userId)).token.html}&d=dlv_1`)).text();
    expect(nps).toMatch(/href="[^"]*\/v1\/s\/nps\/10\?t=[^"]*&amp;d=dlv_1"/);
    expect(nps).toMatch(/src="[^"]*\/v1\/o\/nps-question\?t=/);
    const berliner = uid("berlin");
    await processEvents(env, [ev({ type: "identify", userId: berliner, traits: { plan: "vip", firstName: "Lena" }, context: { timezone: "Europe/Berlin" } })]);
    const vip = await (await fetchUrl((await linksOf("offer", berliner)).token.html)).text();
    expect(vip).toContain("as a VIP you get <strong>25% off</strong>");
    expect(vip).toContain("Ends Fri 1 Jan, 00:00 (Europe/Berlin)");
  });

  it("refuses a block folder without html.liquid", () => {
    expect(() => blockFromFiles({ "block.json": "{}" })).toThrow(/html.liquid/);
  });
});
