// `rapport simulate` (scripts/simulate.mjs, tools/sim/): determinism, the hidden future and its
// ground truth, seasonality, identifiers, flat memory, and both outputs (NDJSON through
// `rapport import`, and the batch API) against a real Rapport started locally.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { applyMigrationsAndSeedKeys, DEMO_KEYS, ROOT, startDev } from "../../scripts/local.mjs";
import { importFile } from "../../scripts/import.mjs";
import { runSimulation } from "../../scripts/simulate.mjs";
import { simulate } from "../../tools/sim/simulate.ts";
import { eventually, profileAt } from "./helpers.mjs";

const dir = mkdtempSync(path.join(os.tmpdir(), "rapport-simulate-"));
const DAY = 86_400_000;
const NOW = "2026-11-01T00:00:00.000Z";

/** `rapport simulate …` as a user runs it; resolves with what it printed. */
function cli(...args) {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [path.join(ROOT, "scripts/rapport.mjs"), "simulate", ...args], { cwd: dir, encoding: "utf8" }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

describe("rapport simulate", { timeout: 300_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the same bytes for the same seed and --now, and others for another seed", async () => {
    const run = async (name, seed) => {
      await cli("--customers", "200", "--days", "60", "--seed", String(seed), "--now", NOW, "--out", `${name}.ndjson`, "--truth", `${name}.json`);
      return [readFileSync(path.join(dir, `${name}.ndjson`)), readFileSync(path.join(dir, `${name}.json`))];
    };
    const [a, aTruth] = await run("a", 3);
    const [b, bTruth] = await run("b", 3);
    const [c] = await run("c", 4);
    assert.ok(a.length > 50_000, `${a.length} bytes`);
    assert.ok(a.equals(b) && aTruth.equals(bTruth), "same seed and --now, same bytes");
    assert.ok(!a.equals(c), "another seed, another population");
    // Every line a Segment message with its id, up to --now.
    const lines = a.toString().trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.every((m) => m.messageId.startsWith("sim3-") && ["track", "page", "identify"].includes(m.type) && (m.userId || m.anonymousId) && m.timestamp <= NOW));
    assert.equal(new Set(lines.map((m) => m.messageId)).size, lines.length);
    const truth = JSON.parse(aTruth);
    assert.equal(truth.customers.length, 200);
    assert.equal(truth.summary.messages, lines.length);
    assert.equal(truth.summary.orders, lines.filter((m) => m.event === "Order Completed" && !/-(dup|alike)$/.test(m.anonymousId)).length);
  });

  it("withholds the future window, and its ground truth says what that window held", () => {
    const now = Date.parse(NOW);
    const shoppers = [...simulate({ customers: 600, days: 90, now, seed: 5 })];
    let buyers = 0;
    let churned = 0;
    for (const s of shoppers) {
      const own = (m) => m.anonymousId === s.truth.anonymousId || (m.userId !== undefined && m.userId === `sim5-u${s.truth.id.split("-")[1]}`);
      assert.ok(s.messages.every((m) => Date.parse(m.timestamp) <= now) && s.future.every((m) => Date.parse(m.timestamp) > now && Date.parse(m.timestamp) <= now + 30 * DAY));
      assert.equal(s.truth.willPurchase30d, s.future.some((m) => own(m) && m.event === "Order Completed"), s.truth.id);
      assert.equal(s.truth.churned, !s.future.some((m) => own(m) && m.type !== "identify"), s.truth.id);
      assert.equal(s.truth.orders, s.messages.filter((m) => own(m) && m.event === "Order Completed").length, s.truth.id);
      // Ids run on in time order from the past into the future.
      assert.deepEqual([...s.messages, ...s.future].map((m) => m.messageId), [...s.messages, ...s.future].map((_, n) => `sim5-${s.truth.id.split("-")[1]}-${n}`));
      buyers += s.truth.willPurchase30d;
      churned += s.truth.churned;
    }
    assert.ok(buyers > 20 && buyers < 300 && churned > 100 && churned < 580, `${buyers} buyers, ${churned} churned`);
    // The hidden window changes nothing that is output.
    const withoutFuture = [...simulate({ customers: 600, days: 90, now, seed: 5, futureDays: 0 })];
    assert.deepEqual(withoutFuture.map((s) => s.messages), shoppers.map((s) => s.messages));
  });

  it("has its seasons: more orders a day in November–December than in January–February, unlike the same shop without seasonality", () => {
    const ordersPerDay = (flat) => {
      const count = { peak: 0, trough: 0, weekend: 0, midweek: 0 };
      for (const s of simulate({ customers: 2000, days: 365, now: Date.parse("2027-03-01T00:00:00Z"), seed: 3, flat })) {
        for (const m of s.messages) {
          const month = m.timestamp.slice(0, 7);
          if (m.event === "Order Completed") {
            if (month === "2026-11" || month === "2026-12") count.peak += 1;
            if (month === "2027-01" || month === "2027-02") count.trough += 1;
          }
          const weekday = new Date(m.timestamp).getUTCDay();
          if (m.type === "page" && (weekday === 0 || weekday === 6)) count.weekend += 1;
          if (m.type === "page" && (weekday === 1 || weekday === 3)) count.midweek += 1;
        }
      }
      return { orders: count.peak / 61 / (count.trough / 59), visits: count.weekend / count.midweek, peak: count.peak, trough: count.trough };
    };
    // The trough comes after the peak, when more shoppers have arrived, so only seasonality can
    // put the peak ahead. Measured: 2.47 (543 against 213 orders) with it, 0.94 without; Poisson
    // noise on these counts is about ±0.2.
    const seasonal = ordersPerDay(false);
    const flat = ordersPerDay(true);
    assert.ok(seasonal.orders > 1.8, JSON.stringify(seasonal));
    assert.ok(flat.orders < 1.2, JSON.stringify(flat));
    // Weekends (×1.2, ×1.25) against Mondays and Wednesdays (×0.9, ×0.95), in visits (Tuesdays
    // have the newsletter's clicks on top).
    assert.ok(seasonal.visits > 1.2 && flat.visits < 1.1, `${seasonal.visits} with seasons, ${flat.visits} without`);
  });

  it("never gives two people one email or phone, and plants duplicates that share none with their first profile", () => {
    const owners = new Map();
    let duplicates = 0;
    for (const s of simulate({ customers: 3000, days: 120, now: Date.parse(NOW), seed: 8, duplicateRate: 0.3, nearMissRate: 0.3 })) {
      for (const m of s.messages) {
        if (m.type !== "identify") continue;
        for (const id of [m.traits.email, m.traits.phone]) {
          if (id === undefined) continue;
          const had = owners.get(id);
          assert.ok(had === undefined || had === m.anonymousId, `${id} used by ${had} and ${m.anonymousId}`);
          owners.set(id, m.anonymousId);
        }
      }
      if (s.duplicate) {
        duplicates += 1;
        assert.ok(s.duplicate.variants.length >= 3, JSON.stringify(s.duplicate));
      }
    }
    assert.ok(duplicates > 100, `${duplicates} duplicates`);
  });

  it("streams a 60,000-customer population with flat memory", async () => {
    // Generation only: NDJSON and truth to /dev/null. A simulator that kept its messages would
    // hold about 400 MB here.
    const early = [];
    const late = [];
    const onProgress = (p) => p.customers % 1000 === 0 && (p.fraction < 0.33 ? early : p.fraction > 0.67 ? late : []).push(process.memoryUsage().heapUsed);
    const result = await runSimulation({ customers: 60_000, days: 30, seed: 2, now: Date.parse(NOW), out: "/dev/null", truth: "/dev/null", onProgress });
    assert.ok(result.messages > 400_000, `${result.messages} messages`);
    const [first, last] = [Math.max(...early), Math.max(...late)];
    assert.ok(last < first * 1.5 + 20e6, `heap rose from ${Math.round(first / 1e6)} MB to ${Math.round(last / 1e6)} MB`);
    assert.ok(last < 150e6, `heap reached ${Math.round(last / 1e6)} MB`);
  });

  describe("against a local Rapport", () => {
    let server;
    before(async () => {
      applyMigrationsAndSeedKeys(path.join(dir, "state"));
      server = await startDev({ port: 8911, stateDir: path.join(dir, "state"), echo: false });
    });
    after(async () => server?.stop());

    it("sends through the batch API, and writes NDJSON that rapport import takes; the profiles match the ground truth", async () => {
      // Two populations (seeds), one through each path.
      const args = (seed) => ["--customers", "60", "--days", "45", "--seed", String(seed), "--now", NOW, "--truth", `truth-${seed}.json`];
      const sent = await cli(...args(9), "--url", server.url, "--write-key", DEMO_KEYS.write);
      assert.match(sent, /Sent to .*none refused/);
      await cli(...args(10), "--out", "sim.ndjson");
      const file = path.join(dir, "sim.ndjson");
      const imported = await importFile({ file, source: "simulated", kind: "events", url: server.url, writeKey: DEMO_KEYS.write });
      assert.equal(imported.sent, readFileSync(file, "utf8").trim().split("\n").length);
      assert.equal(imported.rejected, 0);

      for (const seed of [9, 10]) {
        const truth = JSON.parse(readFileSync(path.join(dir, `truth-${seed}.json`), "utf8"));
        const buyers = truth.customers.filter((c) => c.orders > 0);
        assert.ok(buyers.length >= 3, `${buyers.length} customers with orders`);
        const matches = async () => {
          for (const c of buyers) {
            const p = await profileAt(server.url, c.userId ?? `anonymous_id:${c.anonymousId}`);
            if (p?.computed?.orderCount !== c.orders || Math.abs((p.computed.totalRevenue.EUR ?? 0) - c.revenue) > 0.01) return false;
          }
          return true;
        };
        await eventually(matches, `seed ${seed}: profiles with the truth's orders and revenue`, 60_000);
      }
      // Nothing was refused on the way to the queue, nor quarantined by the consumer.
      const quarantine = await (await fetch(`${server.url}/v1/admin/quarantine`, { headers: { authorization: `Bearer ${DEMO_KEYS.admin}` } })).json();
      assert.deepEqual(quarantine.items, []);
    });
  });
});
