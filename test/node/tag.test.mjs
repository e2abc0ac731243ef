// The storefront tag in a real headless Chromium (Debian's chromium, driven by playwright-core):
// a demo storefront served from its own origin loads /tag.js from a Rapport started locally, and
// what a shopper does there must show in their profile, session and cart.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { applyMigrationsAndSeedKeys, DEMO_KEYS, startDev } from "../../scripts/local.mjs";
import { eventually, profileAt } from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const dir = mkdtempSync(path.join(os.tmpdir(), "rapport-tag-"));
let rapport;
let shop;
let browser;

/** The storefront: the documented snippet, a product page, an add-to-cart button, a sign-in form. */
function storePage({ userId, requireConsent = false }) {
  return `<!doctype html><html><head><title>Demo shop</title>
<script>
!function(){var r=window.rapport=window.rapport||[];if(r.invoked)return;r.invoked=!0;
["page","track","identify","consent","productViewed","productAdded","checkoutStarted","orderCompleted","reset"].forEach(function(m){r[m]=function(){var a=[].slice.call(arguments);a.unshift(m);r.push(a);return r}});
r.writeKey=${JSON.stringify(DEMO_KEYS.write)};r.host=${JSON.stringify(rapport.url)};r.requireConsent=${requireConsent};
var s=document.createElement("script");s.async=!0;s.src=r.host+"/tag.js";document.head.appendChild(s)}();
rapport.productViewed({product_id:"sku-1",name:"Linen shirt",price:59,currency:"EUR",category:"shirts"});
</script></head><body>
<h1>Linen shirt</h1>
<button id="add" onclick="rapport.productAdded({product_id:'sku-1',name:'Linen shirt',price:59,currency:'EUR',quantity:2})">Add to cart</button>
<button id="signin" onclick='rapport.identify(${JSON.stringify(userId)},{email:${JSON.stringify(`${userId}@example.com`)},firstName:"Ada"})'>Sign in</button>
<button id="yes" onclick="rapport.consent({analytics:true,personalization:true})">Accept cookies</button>
</body></html>`;
}

const profile = (ref) => profileAt(rapport.url, ref);

// Without Chromium the browser tests are skipped, saying so; CI installs it and requires them.
const skip = existsSync(CHROMIUM) || process.env.RAPPORT_REQUIRE_BROWSER ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;

describe("the storefront tag in Chromium", { timeout: 240_000, skip }, () => {
  const pages = new Map();
  before(async () => {
    applyMigrationsAndSeedKeys(path.join(dir, "state"));
    rapport = await startDev({ port: 8797, stateDir: path.join(dir, "state"), echo: false });
    shop = createServer((req, res) => {
      const html = pages.get(new URL(req.url, "http://x").pathname);
      res.writeHead(html ? 200 : 404, { "content-type": "text/html" }).end(html ?? "not found");
    });
    await new Promise((r) => shop.listen(0, "127.0.0.1", r));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    shop?.close();
    await rapport?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const shopUrl = (p) => `http://127.0.0.1:${shop.address().port}${p}`;

  it("is small: under 5 KB gzipped", async () => {
    const res = await fetch(`${rapport.url}/tag.js`, { headers: { "accept-encoding": "identity" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /javascript/);
    const { gzipSync } = await import("node:zlib");
    assert.ok(gzipSync(Buffer.from(await res.text())).length < 5 * 1024);
  });

  it("turns clicks on a storefront into the shopper's profile, session and cart", async () => {
    const userId = `tag-${Date.now()}`;
    pages.set("/product", storePage({ userId }));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(shopUrl("/product"));
    await page.waitForFunction(() => window.rapport?.loaded);
    const anonymousId = await page.evaluate(() => window.rapport.anonymousId());
    const cookies = await context.cookies();
    assert.equal(cookies.find((c) => c.name === "rapport_aid")?.value, anonymousId);
    await page.click("#add");
    // Offline for a moment: the sign-in waits in the queue and goes when the network is back.
    await context.setOffline(true);
    await page.click("#signin");
    await new Promise((r) => setTimeout(r, 1500));
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    const p = await eventually(async () => {
      const found = await profile(userId);
      return found && found.counters.events["Product Added"] === 1 && found.session?.cart?.itemCount === 2 ? found : null;
    }, "the shopper's profile with the cart");
    assert.deepEqual(p.identities.anonymousIds, [anonymousId]);
    assert.equal(p.traits.email, `${userId}@example.com`);
    assert.equal(p.counters.types.page, 1);
    assert.equal(p.counters.events["Product Viewed"], 1);
    assert.equal(p.session.recentViews[0].productId, "sku-1");
    assert.deepEqual(p.session.cart.items.map((i) => [i.productId, i.quantity]), [["sku-1", 2]]);
    assert.equal(p.session.page.path, "/product");
    await context.close();
  });

  it("sends nothing before consent when the site requires it, then everything, with the preferences", async () => {
    const userId = `consent-${Date.now()}`;
    pages.set("/consent", storePage({ userId, requireConsent: true }));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(shopUrl("/consent"));
    await page.waitForFunction(() => window.rapport?.loaded);
    const anonymousId = await page.evaluate(() => window.rapport.anonymousId());
    await page.click("#add");
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await profile(`anonymous_id:${anonymousId}`), null);
    await page.click("#yes");
    const p = await eventually(async () => {
      const found = await profile(`anonymous_id:${anonymousId}`);
      return found && found.counters.events["Product Added"] === 1 ? found : null;
    }, "events after consent");
    assert.deepEqual(p.consent.categoryPreferences, { analytics: true, personalization: true });
    await context.close();
  });

  it("sends what is left with sendBeacon when the page goes away", async () => {
    const userId = `beacon-${Date.now()}`;
    pages.set("/beacon", storePage({ userId }));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(shopUrl("/beacon"));
    await page.waitForFunction(() => window.rapport?.loaded);
    const anonymousId = await page.evaluate(() => window.rapport.anonymousId());
    // Added and gone at once, before the one-second batch timer.
    await page.click("#add");
    await page.close({ runBeforeUnload: true });
    const p = await eventually(async () => {
      const found = await profile(`anonymous_id:${anonymousId}`);
      return found && found.counters.events["Product Added"] === 1 ? found : null;
    }, "the beaconed event");
    assert.equal(p.counters.events["Product Added"], 1);
    await context.close();
  });
});
