// `rapport import` (scripts/import.mjs) runs in Node, so it is tested here with node:test, against
// a real Rapport started locally (wrangler dev on 127.0.0.1, its own local state), except the
// memory test, which only needs an answering batch API.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createWriteStream } from "node:fs";
import { once } from "node:events";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { applyMigrationsAndSeedKeys, DEMO_KEYS, startDev } from "../../scripts/local.mjs";
import { eventually, profileAt } from "./helpers.mjs";
import { importFile } from "../../scripts/import.mjs";
import { loadTrackingPlans } from "../../scripts/load-tracking-plans.mjs";

const dir = mkdtempSync(path.join(os.tmpdir(), "rapport-import-"));
const stateDir = path.join(dir, "state");
let server;

const profile = (ref) => profileAt(server.url, ref);

describe("rapport import", { timeout: 240_000 }, () => {
  before(async () => {
    applyMigrationsAndSeedKeys(stateDir);
    server = await startDev({ port: 8795, stateDir, echo: false });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("imports customers from CSV into profiles, and reports the rows refused", async () => {
    const file = path.join(dir, "customers.csv");
    const lines = ["user_id,email,first_name,plan,address.city"];
    for (let i = 0; i < 1200; i++) lines.push(`csv-${i},csv${i}@example.com,Name${i},${i % 2 ? "pro" : "free"},Lyon`);
    lines.push(",,,,");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const result = await importFile({ file, source: "crm", kind: "customers", url: server.url, writeKey: DEMO_KEYS.write, batchSize: 250 });
    assert.equal(result.sent, 1200);
    assert.equal(result.rejected, 1);
    const report = readFileSync(result.report, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(report[0].row, 1201);
    assert.equal(report[0].errors[0].message, "is required, or else anonymousId");
    assert.match(report[0].errors[0].field, /\.userId$/);
    assert.equal(existsSync(`${file}.rapport-import.json`), false);
    const p = await eventually(() => profile("csv-1199"), "the last customer");
    assert.deepEqual(p.traits, { firstName: "Name1199", email: "csv1199@example.com", plan: "pro", address: { city: "Lyon" } });
  });

  it("keeps every digit of integer ids past 2^53 in NDJSON rows", async () => {
    const file = path.join(dir, "big-ids.ndjson");
    // Written as text: these ids are not JavaScript numbers.
    writeFileSync(file, `{"type":"track","userId":820982911946154508,"event":"Order Completed","properties":{"order_id":115310627314723954,"total":10}}\n`);
    const result = await importFile({ file, source: "shop", url: server.url, writeKey: DEMO_KEYS.write });
    assert.equal(result.sent, 1);
    const p = await eventually(() => profile("820982911946154508"), "the customer under its exact id");
    assert.equal(p.userId, "820982911946154508");
    const events = await (await fetch(`${server.url}/v1/customers/820982911946154508/events`, { headers: { authorization: `Bearer ${DEMO_KEYS.read}` } })).json();
    assert.equal(events.events[0].properties.order_id, "115310627314723954");
  });

  it("resumes an interrupted import where it stopped, counting no row twice", async () => {
    const file = path.join(dir, "events.ndjson");
    const rows = [];
    for (let i = 0; i < 3000; i++) rows.push(JSON.stringify({ type: "track", userId: `resume-${i % 10}`, event: "Product Viewed", properties: { product_id: `p${i}` } }));
    writeFileSync(file, `${rows.join("\n")}\n`);
    // The network fails for good after four batches.
    let calls = 0;
    const failing = (url, init) => (++calls > 4 ? Promise.reject(new Error("connection reset")) : fetch(url, init));
    await assert.rejects(importFile({ file, source: "web", url: server.url, writeKey: DEMO_KEYS.write, batchSize: 200, concurrency: 1, fetchImpl: failing, maxRetries: 2 }), /did not answer/);
    const checkpoint = JSON.parse(readFileSync(`${file}.rapport-import.json`, "utf8"));
    assert.equal(checkpoint.rowsDone, 800);
    const resumed = await importFile({ file, source: "web", url: server.url, writeKey: DEMO_KEYS.write, batchSize: 200, resume: true });
    assert.equal(resumed.resumedAfter, 800);
    assert.equal(resumed.sent, 2200);
    // Each of the ten shoppers has exactly 300 views; and importing again changes nothing.
    await importFile({ file, source: "web", url: server.url, writeKey: DEMO_KEYS.write, batchSize: 500 });
    for (let u = 0; u < 10; u += 3) await eventually(async () => (await profile(`resume-${u}`))?.eventCount === 300, `resume-${u} has 300 events`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await profile("resume-0")).eventCount, 300);
  });

  it("loads tracking plans from files (rapport plans load), and names the file a plan is refused in", async () => {
    const plans = path.join(dir, "plans");
    mkdirSync(plans);
    writeFileSync(path.join(plans, "pos.json"), JSON.stringify({ sources: ["source:pos"], violations: "quarantine", events: { Sale: { type: "object", required: ["amount"] } } }));
    const [loaded] = await loadTrackingPlans({ url: server.url, key: DEMO_KEYS.admin, dir: plans });
    assert.deepEqual(loaded, { id: "pos", status: "created", version: 1 });
    const res = await fetch(`${server.url}/v1/tracking-plans/pos`, { headers: { authorization: `Bearer ${DEMO_KEYS.admin}` } });
    assert.deepEqual((await res.json()).events, { Sale: { type: "object", required: ["amount"] } });
    // The shipped demo plan loads as it is.
    assert.equal((await loadTrackingPlans({ url: server.url, key: DEMO_KEYS.admin }))[0].id, "storefront");
    writeFileSync(path.join(plans, "typo.json"), JSON.stringify({ sources: ["source:typo"], events: { Sale: { type: "numbr" } } }));
    await assert.rejects(loadTrackingPlans({ url: server.url, key: DEMO_KEYS.admin, dir: plans }), /typo\.json: 400 .*events\.Sale\.type/);
  });

  it("streams a 1,000,000-row file with flat memory", async () => {
    const file = path.join(dir, "million.ndjson");
    const out = createWriteStream(file);
    for (let i = 0; i < 1_000_000; i++) {
      if (!out.write(`{"type":"track","userId":"m-${i % 5000}","event":"Product Viewed","properties":{"product_id":"p${i % 300}","price":${i % 97}}}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    // What is measured is the importer's own memory, so the batch API here only answers.
    const answer = async (_url, init) => {
      await new Promise((r) => setTimeout(r, 1));
      return new Response(JSON.stringify({ success: true, accepted: JSON.parse(init.body).batch.length }), { status: 200 });
    };
    // Flat: the heap in the last third of the file is about where it was in the first third (the
    // garbage collector runs when it likes, so the peaks wander a little; memory that grew with
    // the rows read would be several times higher: a deliberate leak reached 600 MB).
    const early = [];
    const late = [];
    const onProgress = (p) => (p.fraction < 0.33 ? early : p.fraction > 0.67 ? late : []).push(process.memoryUsage().heapUsed);
    const result = await importFile({ file, source: "big", url: "http://127.0.0.1:1", writeKey: "wk", fetchImpl: answer, batchSize: 500, concurrency: 4, onProgress });
    assert.equal(result.sent, 1_000_000);
    assert.ok(early.length > 0 && late.length > 0, "progress sampled at the start and the end");
    const [first, last] = [Math.max(...early), Math.max(...late)];
    assert.ok(last < first * 1.5 + 20e6, `heap rose from ${Math.round(first / 1e6)} MB to ${Math.round(last / 1e6)} MB`);
    assert.ok(last < 300e6, `heap reached ${Math.round(last / 1e6)} MB for a ${Math.round(statSync(file).size / 1e6)} MB file`);
  });
});
