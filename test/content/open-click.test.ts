import { beforeEach, describe, expect, it } from "vitest";
import { admin, eventually, getCustomer, ingest, profileWhen, uid } from "../helpers";
import { CARD, fetchUrl, forgetCatalogCache, GRID, linksOf, putBlock, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Width and height from a PNG's IHDR chunk. */
const pngSize = (bytes: Uint8Array) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
};

const COUNTDOWN = {
  html: "<p>{{ cart.item_count }}</p>",
  image: {
    width: 400,
    height: 120,
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120" viewBox="0 0 400 120"><rect width="400" height="120" fill="#111"/><text x="20" y="50" font-family="Inter" font-size="22" fill="#fff">{{ customer.first_name | default: "Hi" }}, {{ cart.item_count | pluralize: "item", "items" }} held</text><text x="20" y="95" font-family="Inter" font-weight="bold" font-size="30" fill="#fc0">{{ cart.reserved_until | countdown }}</text></svg>`,
    fallbackSvg: `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120"><rect width="400" height="120" fill="#eee"/></svg>`,
  },
};

describe("images at open time", () => {
  it("renders this cart's reservation countdown as SVG and PNG, never cached", async () => {
    const id = uid("countdown");
    expect((await putBlock(id, COUNTDOWN)).status).toBe(201);
    const { userId } = await shopper();
    const { token } = await linksOf(id, userId);
    const svg = await fetchUrl(token.svg);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(svg.headers.get("cache-control")).toContain("no-store");
    const text = await svg.text();
    expect(text).toContain("&lt;b&gt;Ada&lt;/b&gt;, 2 items held");
    // The cart changed half an hour ago and is held 24 hours (CART_RESERVATION_MINUTES): 23 h 30 left.
    const left = text.match(/>(\d\d):(\d\d):(\d\d)</);
    expect(left).not.toBeNull();
    const seconds = Number(left![1]) * 3600 + Number(left![2]) * 60 + Number(left![3]);
    expect(seconds).toBeGreaterThan((23 * 60 + 25) * 60);
    expect(seconds).toBeLessThanOrEqual((23 * 60 + 30) * 60);

    const png = await fetchUrl(token.png);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.headers.get("cache-control")).toContain("no-store");
    const bytes = new Uint8Array(await png.arrayBuffer());
    expect([...bytes.slice(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(bytes)).toEqual([400, 120]);
    // Text was drawn (a font was found): the image differs from the same SVG without its text.
    const blank = await fetchUrl(`${token.png.replace(/\?.*$/, "")}?t=forged.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(bytes.length).toBeGreaterThan(new Uint8Array(await blank.arrayBuffer()).length + 1000);
  });

  it("shows the neutral image to unknown customers, bad links and prefetching proxies", async () => {
    const id = uid("countdown");
    await putBlock(id, COUNTDOWN);
    const { userId } = await shopper();
    const { token } = await linksOf(id, userId);
    const neutral = await (await fetchUrl(`${token.svg.replace(/\?.*$/, "")}?t=nobody.AAAAAAAAAAAAAAAAAAAAAA`)).text();
    expect(neutral).toBe(COUNTDOWN.image.fallbackSvg);
    expect(await (await fetchUrl(token.svg, { "sec-purpose": "prefetch" })).text()).toBe(neutral);
    expect(await (await fetchUrl(token.svg, { "user-agent": "Mimecast Security Scanner" })).text()).toBe(neutral);
    const png = new Uint8Array(await (await fetchUrl(token.png, { "sec-purpose": "prefetch" })).arrayBuffer());
    expect([...png.slice(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual([400, 120]);
  });
});

describe("click-time links", () => {
  it("redirects to the recommended product as it is when clicked, and records the click", async () => {
    const card = uid("card");
    const grid = uid("grid");
    await putBlock(card, CARD);
    await putBlock(grid, GRID(card));
    const { userId, p } = await shopper();
    const { click } = await linksOf(grid, userId);
    const first = await fetchUrl(click);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("https://shop.example/chair");
    expect(first.headers.get("cache-control")).toContain("no-store");
    // Sold out since the email was sent: the click goes to the next recommendation.
    await admin("/v1/catalog/products", { method: "POST", body: JSON.stringify({ products: [{ product_id: p("chair"), in_stock: false }] }) });
    const second = await fetchUrl(click);
    expect(second.headers.get("location")).toBe("https://shop.example/lamp");
    // Each click becomes an event of the customer (through the queue and the pipeline).
    const profile = await eventually(async () => {
      const body = (await (await getCustomer(userId)).json()) as { counters: { events: Record<string, number> } };
      return body.counters.events["Email Link Clicked"] === 2 ? body : null;
    }, "two recorded clicks");
    expect(profile.counters.events["Email Link Clicked"]).toBe(2);
  });

  it("does not record scanners' clicks, and sends a bad link to popular products or the fallback URL", async () => {
    const card = uid("card");
    const grid = uid("grid");
    await putBlock(card, CARD);
    await putBlock(grid, { ...GRID(card), products: { source: "recently_viewed", limit: 4 } });
    const { userId } = await shopper();
    const { click } = await linksOf(grid, userId);
    const scanned = await fetchUrl(click, { "user-agent": "Barracuda Sentinel (EE)" });
    expect(scanned.status).toBe(302);
    // Nobody in particular has recently viewed nothing: the block's fallback URL.
    const forged = await fetchUrl(`${click.replace(/\?.*$/, "")}?t=nobody.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(forged.headers.get("location")).toBe("https://shop.example/bestsellers");
    // A person's click after the scanner's, then an event through the same queue: once the
    // event is in the profile, the scanner's click would be too, had it been recorded.
    expect((await fetchUrl(click)).status).toBe(302);
    const marker = uid("after");
    expect((await ingest("/v1/track", { userId, event: marker })).status).toBe(200);
    const body = await profileWhen(userId, (p) => p.counters.events[marker] === 1 && p.counters.events["Email Link Clicked"] >= 1);
    expect(body.counters.events["Email Link Clicked"]).toBe(1);
  });
});

describe("preview for marketers", () => {
  it("renders a draft version for a customer and says why a fallback was served", async () => {
    const id = uid("draft");
    await putBlock(id, { html: "<p>Hello {{ customer.user_id }}</p>", fallback: "<p>fallback</p>" }, false);
    const { userId } = await shopper();
    const ok = await admin(`/v1/blocks/${id}/preview?customer=${userId}`);
    expect(ok.headers.get("x-rapport-fallback")).toBe("none");
    expect(await ok.text()).toBe(`<p>Hello ${userId}</p>`);
    const unknown = await admin(`/v1/blocks/${id}/preview?customer=nobody`);
    expect(unknown.headers.get("x-rapport-fallback")).toBe("unknown_customer");
    expect(await unknown.text()).toBe("<p>fallback</p>");
    // Images preview too, drafts included.
    const countdown = uid("countdown");
    await putBlock(countdown, COUNTDOWN, false);
    const png = await admin(`/v1/blocks/${countdown}/preview?customer=${userId}&format=png`);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.headers.get("x-rapport-fallback")).toBe("none");
    expect([...new Uint8Array(await png.arrayBuffer()).slice(0, 8)]).toEqual(PNG_SIGNATURE);
    expect((await admin(`/v1/blocks/${id}/preview?customer=${userId}&format=png`)).status).toBe(404);
    const page = await fetchUrl("http://rapport.test/preview");
    expect(await page.text()).toContain("Block preview");
  });
});
