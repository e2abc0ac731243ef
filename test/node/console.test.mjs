// The console in a real browser (Debian's chromium, driven by playwright-core), on what `npm
// start` ships: the test runs scripts/start.mjs itself (its own port and state), waits for the
// demo data, then signs in with the demo admin key, opens every page (charts drawn, tables
// filled), finds a demo customer, watches an alert fire on a dead letter, replays the dead letter
// from the page, sees the alert resolve, and signs out. Screenshots of each page go to
// test-results/console (CONSOLE_SCREENSHOTS=docs/console refreshes those of docs/console.md).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { DEMO_KEYS, OFFLINE_ENV, ROOT, wrangler } from "../../scripts/local.mjs";
import { eventually, profileAt } from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) || process.env.RAPPORT_REQUIRE_BROWSER ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;
const PORT = 8794;
const RECEIVER_PORT = 8793;
const SHOTS = path.resolve(ROOT, process.env.CONSOLE_SCREENSHOTS ?? "test-results/console");
const dir = mkdtempSync(path.join(os.tmpdir(), "rapport-console-"));
const stateDir = path.join(dir, "state");
let start;
let output = "";
let browser;
let consoleUrl;

const admin = (p, init = {}) => fetch(`http://127.0.0.1:${PORT}${p}`, { ...init, headers: { authorization: `Bearer ${DEMO_KEYS.admin}`, "content-type": "application/json", ...init.headers } });

const alertStatus = async (ruleId) => (await (await admin("/v1/alerts")).json()).alerts.find((a) => a.ruleId === ruleId)?.status;

/** Resolves once `npm start`'s output matches, or fails with its output. */
async function printed(pattern, what, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const m = pattern.exec(output);
    if (m) return m;
    if (start.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`npm start never printed ${what}:\n${output.slice(-4000)}`);
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.jpg`), type: "jpeg", quality: 70, fullPage: true });
}

/** Every chart on the page is drawn (uPlot made its canvas) and there is at least one. */
async function chartsDrawn(page) {
  const charts = await page.locator("figure.chart").count();
  assert.ok(charts > 0, `charts on ${page.url()}`);
  await page.waitForFunction((n) => document.querySelectorAll("figure.chart[data-drawn=true] canvas").length === n, charts);
  return charts;
}

describe("the console in Chromium, on npm start's demo", { timeout: 600_000, skip }, () => {
  before(async () => {
    start = spawn(process.execPath, ["scripts/start.mjs"], { cwd: ROOT, env: { ...OFFLINE_ENV, PORT: String(PORT), RECEIVER_PORT: String(RECEIVER_PORT), RAPPORT_STATE_DIR: stateDir }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    start.stdout.on("data", (d) => (output += d));
    start.stderr.on("data", (d) => (output += d));
    consoleUrl = (await printed(/Console\s+(http:\/\/127\.0\.0\.1:\d+\/console)/, "the console URL", 240_000))[1];
    // The demo's email traffic comes last, in the background: every page has its data then.
    await printed(/\[engagement\] \d+ simulated emails delivered/, "the engagement demo", 300_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    // start.mjs stops wrangler and the receiver on SIGTERM; the group is killed if it lingers.
    if (start && start.exitCode === null) {
      start.kill("SIGTERM");
      await Promise.race([new Promise((r) => start.once("exit", r)), new Promise((r) => setTimeout(r, 15_000))]);
      if (start.exitCode === null) process.kill(-start.pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows every page filled with the demo's data, replays a dead letter and signs out", async () => {
    // The demo's three refused messages fire the quarantine rule (lowered to one for the demo) at
    // the first run of the minute's cron, which npm start fires itself (wrangler dev runs none).
    await eventually(async () => (await alertStatus("quarantine")) === "firing", "the quarantine alert, fired by npm start's cron", 90_000);
    await printed(/\[alert\] Refused messages piling up: 3 ≥ 1/, "the quarantine notification", 30_000);

    // A pack that exhausted its retries, as the dead-letter consumer keeps it; and a rule that pages on it.
    const now = new Date().toISOString();
    const pack = { v: 1, packId: "pk_console_dead", receivedAt: now, sourceId: "key_demo_write", rejected: [], events: [{ messageId: "console-dead-1", type: "identify", userId: "console-replayed", traits: { firstName: "Replayed" }, timestamp: now, receivedAt: now, sourceId: "key_demo_write" }] };
    wrangler(["d1", "execute", "DB", "--local", "--command", `INSERT INTO dead_letters (id, queue, body, attempts, last_error, received_at) VALUES ('dl_console', 'rapport-events', '${JSON.stringify(pack)}', 5, 'D1_ERROR: database is locked', ${Date.now()})`], { stateDir });
    // The shipped rule on dead letters (npm start loads it, notifying the local receiver) fires at
    // the next evaluation: the local cron's or this one, whichever comes first.
    await admin("/v1/alerts/evaluate", { method: "POST" });
    assert.equal(await alertStatus("dead-letters"), "firing");

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("dialog", (d) => d.accept());

    // Sign in: the console sends us to its sign-in page and back.
    await page.goto(consoleUrl);
    assert.match(page.url(), /\/console\/sign-in/);
    await shot(page, "sign-in");
    await page.fill("#key", DEMO_KEYS.admin);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/console\/pipeline$/);
    const [cookie] = (await context.cookies()).filter((c) => c.name === "__Host-rapport-console");
    assert.ok(cookie?.httpOnly && cookie.secure && cookie.sameSite === "Strict", JSON.stringify(cookie));

    // Pipeline: the demo's events counted, four charts drawn, the refused messages by reason, the dead letter.
    assert.equal(await chartsDrawn(page), 4);
    assert.ok(Number((await page.textContent(".card b")).replaceAll(",", "")) > 100, "events received in the last hour");
    assert.match(await page.textContent("#quarantine"), /timestamp: must be an ISO-8601 date-time/);
    assert.match(await page.textContent("#dead-letters"), /database is locked/);
    await shot(page, "pipeline");

    // Alerts: the rule is firing, with its history and a link to the page that shows it.
    await page.click("nav >> text=Alerts");
    assert.match(await page.textContent("#alert-states"), /dead-letters/);
    assert.match(await page.textContent("#alert-states"), /firing/);
    assert.ok((await page.locator("#alert-states a[href^='/console/pipeline']").count()) > 0);
    await shot(page, "alerts");

    // Replay from the pipeline page: the customer in the dead letter appears.
    await page.click("nav >> text=Pipeline");
    await page.click("#dead-letters button:has-text('Replay')");
    await page.waitForSelector(".notice");
    assert.match(await page.textContent(".notice"), /Replayed 1 dead letter/);
    await eventually(() => profileAt(`http://127.0.0.1:${PORT}`, "console-replayed"), "the replayed customer");
    await admin("/v1/alerts/evaluate", { method: "POST" });
    assert.equal(await alertStatus("dead-letters"), "resolved");
    await page.click("nav >> text=Alerts");
    assert.match(await page.textContent("#alert-states"), /resolved/);
    // The receiver got the notifications, each with the console page to look at.
    await printed(new RegExp(`\\[alert\\] Resolved: Messages dead-lettered.*127\\.0\\.0\\.1:${PORT}/console/pipeline`), "the resolve notification", 30_000);

    // Profiles: a demo customer found by her email address.
    await page.click("nav >> text=Profiles");
    await page.fill("input[name=q]", "ada@example.com");
    await page.click("button:has-text('Find')");
    await page.waitForSelector("#timeline");
    assert.match(await page.textContent("main"), /Lovelace/);
    assert.match(await page.textContent("#timeline"), /Order Completed/);
    await shot(page, "profiles");

    // Segments: a segment with members, its charts drawn.
    await page.click("nav >> text=Segments");
    await shot(page, "segments");
    await page.click("main p a >> nth=0");
    await chartsDrawn(page);
    await shot(page, "segment");

    // Triggers and deliveries: the demo's deliveries to the local receiver.
    await page.click("nav >> text=Triggers");
    await chartsDrawn(page);
    assert.match(await page.textContent("main"), /127\.0\.0\.1:8793/);
    await shot(page, "triggers");

    // Content: a live preview for a demo customer, engagement and the experiment charted.
    await page.click("nav >> text=Content");
    await page.selectOption("select[name=block]", "product-grid");
    await page.fill("input[name=customer]", "demo-ada");
    await page.click("button:has-text('Render')");
    const frame = await (await page.waitForSelector("iframe.preview")).contentFrame();
    await frame.waitForSelector("text=Ada");
    assert.ok((await chartsDrawn(page)) >= 2, "engagement and experiment charts");
    assert.match(await page.textContent("main"), /offer-subject/);
    await shot(page, "content");

    // Data quality: the tracking plan's flagged events and profile completeness.
    await page.click("nav >> text=Data quality");
    await chartsDrawn(page);
    await shot(page, "data-quality");

    // On a phone: nothing wider than the screen but the tables, which scroll in their own box.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.addCookies([cookie]);
    const small = await phone.newPage();
    await small.goto(`${consoleUrl}/pipeline`);
    await chartsDrawn(small);
    assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), "no sideways scrolling");
    await shot(small, "pipeline-phone");
    await phone.close();

    // Sign out: the session ends, and the pages ask to sign in again.
    await page.click("button:has-text('Sign out')");
    await page.waitForURL(/\/console\/sign-in/);
    await page.goto(`${consoleUrl}/pipeline`);
    assert.match(page.url(), /\/console\/sign-in/);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
