// A survey link answered from a real browser (Debian's chromium, driven by playwright-core): a
// person's click on the link in an email records the answer on the profile (and a later click
// changes it); a link scanner's visit in headless Chromium gets the confirm page and records
// nothing, even when it presses the button.
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
const dir = mkdtempSync(path.join(os.tmpdir(), "rapport-survey-"));
let rapport;
let mail;
let browser;
const emails = new Map();
const CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const skip = existsSync(CHROMIUM) || process.env.RAPPORT_REQUIRE_BROWSER ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;

const adminCall = (p, init = {}) => fetch(`${rapport.url}${p}`, { ...init, headers: { authorization: `Bearer ${DEMO_KEYS.admin}`, "content-type": "application/json", ...init.headers } });

describe("a survey in email, answered in Chromium", { timeout: 240_000, skip }, () => {
  before(async () => {
    applyMigrationsAndSeedKeys(path.join(dir, "state"));
    rapport = await startDev({ port: 8798, stateDir: path.join(dir, "state"), echo: false });
    // A web mail client, as far as links go: the email's HTML on a page of its own origin.
    mail = createServer((req, res) => {
      const html = emails.get(new URL(req.url, "http://x").pathname);
      res.writeHead(html ? 200 : 404, { "content-type": "text/html" }).end(html ?? "not found");
    });
    await new Promise((r) => mail.listen(0, "127.0.0.1", r));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    mail?.close();
    await rapport?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a person's click as their answer (and a changed one), and nothing for a scanner's visit in headless Chromium", async () => {
    const put = await adminCall("/v1/surveys/browser_nps", { method: "PUT", body: JSON.stringify({ question: "How likely are you to recommend us?", answers: [{ value: "9", label: "Very likely" }, { value: "3", label: "Not very" }] }) });
    assert.ok([200, 201].includes(put.status), `survey saved: ${put.status}`);
    const userId = `survey-${Date.now()}`;
    const identify = await fetch(`${rapport.url}/v1/identify`, { method: "POST", headers: { authorization: `Basic ${btoa(`${DEMO_KEYS.write}:`)}`, "content-type": "application/json" }, body: JSON.stringify({ userId, traits: { email: `${userId}@example.com` } }) });
    assert.equal(identify.status, 200);
    await eventually(() => profileAt(rapport.url, userId), "the customer");
    const links = await (await adminCall(`/v1/surveys/browser_nps/links?customer=${userId}`)).json();
    emails.set("/inbox/1", `<!doctype html><title>Inbox</title><p>How likely are you to recommend us?</p><a id="very" href="${links.answers["9"]}">Very likely</a> <a id="not" href="${links.answers["3"]}">Not very</a>`);

    // Headless Chromium says "HeadlessChrome" in its user agent, which Rapport takes for a link
    // scanner's (they run it): the person here uses the same browser with its usual agent.
    const context = await browser.newContext({ userAgent: CHROME_UA });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${mail.address().port}/inbox/1`);
    await page.click("#very");
    await page.waitForSelector("#thanks");
    assert.match(await page.textContent("body"), /Very likely/);
    const answered = await eventually(async () => {
      const p = await profileAt(rapport.url, userId);
      return p?.traits.survey_browser_nps === "9" ? p : null;
    }, "the answer on the profile");
    assert.equal(answered.counters.events["Survey Answered"], 1);

    // A link scanner opens the other link in headless Chromium (its own agent): a confirm page,
    // which it does not press; pressed anyway, a scanner's press records nothing either.
    const scanner = await browser.newPage();
    await scanner.goto(links.answers["3"]);
    await scanner.waitForSelector("#confirm");
    await scanner.click("#confirm");
    await scanner.waitForSelector("#thanks");
    await scanner.close();
    assert.equal((await profileAt(rapport.url, userId)).traits.survey_browser_nps, "9");
    // The person changes their mind: a click on the other answer in the email.
    await page.goto(`http://127.0.0.1:${mail.address().port}/inbox/1`);
    await page.click("#not");
    await page.waitForSelector("#thanks");
    await eventually(async () => (await profileAt(rapport.url, userId))?.traits.survey_browser_nps === "3", "the changed answer");
    assert.equal((await profileAt(rapport.url, userId)).counters.events["Survey Answered"], 2);
    const results = await (await adminCall("/v1/surveys/browser_nps/results")).json();
    assert.equal(results.respondents, 1);
    assert.equal(results.answers.find((a) => a.value === "3").customers, 1);
    await context.close();
  });
});
