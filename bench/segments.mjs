// Segments and predictive scores in `npm run bench`: pipeline throughput on new shoppers on two
// fresh servers side by side, one without any segment or model and one with 20 segments and both
// models active, in alternating rounds; and the time of an evaluation pass over every profile (at
// least 100,000).
import { rmSync } from "node:fs";
import { freshServer } from "./server.mjs";
import { load } from "./load.mjs";
import { storefrontEvents } from "./workload.mjs";

const BATCH = 500;

/** Twenty rules of every kind: traits, computed traits, event windows, other segments, scores. */
export function twentySegments() {
  const rules = {
    "high-value": { all: [{ computed: "orderCount", op: "gte", value: 2 }, { computed: "totalRevenue", op: "gte", value: 500 }] },
    vip: { all: [{ segment: "high-value" }, { computed: "orderCount", op: "gte", value: 5 }, { computed: "daysSinceLastOrder", op: "lte", value: 180 }] },
    "at-risk": { all: [{ computed: "orderCount", op: "gte", value: 2 }, { computed: "daysSinceLastOrder", op: "gte", value: 60 }, { event: "Product Viewed", atMost: 0, withinDays: 30 }] },
    "new-prospects": { all: [{ trait: "email", op: "exists" }, { computed: "orderCount", op: "eq", value: 0 }, { computed: "daysSinceFirstSeen", op: "lte", value: 30 }] },
    "vip-plan": { trait: "plan", op: "eq", value: "vip" },
    browsers: { event: "Product Viewed", atLeast: 3, withinDays: 7 },
    "heavy-browsers": { event: "Product Viewed", atLeast: 6, withinDays: 30 },
    "shoe-lovers": { event: "Product Viewed", where: [{ property: "category", op: "eq", value: "shoes" }], atLeast: 2, withinDays: 30 },
    "bag-lovers": { event: "Product Viewed", where: [{ property: "category", op: "eq", value: "bags" }], atLeast: 2 },
    "cart-abandoners": { all: [{ event: "Product Added", withinDays: 7 }, { event: "Order Completed", atMost: 0, withinDays: 7 }] },
    checkout: { event: "Checkout Started", withinDays: 14 },
    buyers: { computed: "orderCount", op: "gte", value: 1 },
    "big-basket": { event: "Order Completed", where: [{ property: "revenue", op: "gte", value: 80 }], withinDays: 90 },
    engaged: { computed: "engagementScore", op: "gte", value: 5 },
    "shoe-fans": { computed: "favouriteCategory", op: "eq", value: "shoes" },
    "likely-buyers": { computed: "purchasePropensity", op: "gte", value: 0.5 },
    "churn-risk": { all: [{ segment: "buyers" }, { computed: "churnRisk", op: "gte", value: 0.6 }] },
    champions: { all: [{ computed: "rfmRecency", op: "gte", value: 4 }, { computed: "rfmFrequency", op: "gte", value: 4 }] },
    "identified-non-buyers": { all: [{ trait: "email", op: "exists" }, { not: { segment: "buyers" } }] },
    "active-anonymous": { all: [{ trait: "email", op: "not_exists" }, { any: [{ segment: "browsers" }, { segment: "checkout" }] }] },
  };
  return Object.entries(rules).map(([id, rule]) => ({ id, definition: { name: id, rule } }));
}

/** A model upload with fixed coefficients (what matters here is that it is applied, not its quality). */
function modelUpload(sign) {
  const now = new Date().toISOString();
  return {
    features: ["orders_log", "revenue_log", "has_ordered", "days_since_order", "days_since_seen", "tenure_days", "activity_7d_log", "activity_30d_log", "activity_90d_log", "orders_per_month"],
    means: [0.3, 1, 0.2, 0.8, 0.2, 0.2, 1, 1.5, 2, 0.1],
    stds: [0.5, 2, 0.4, 0.3, 0.3, 0.2, 1, 1, 1, 0.2],
    weights: [0.5, 0.3, 0.2, -0.8, -1.2, 0.1, 0.9, 0.6, 0.3, 0.4].map((w) => w * sign),
    bias: -0.5,
    metrics: { auc: 0.5, trainRows: 0, holdoutRows: 0, positiveRate: 0.5 },
    trainedAt: now,
    trainCutoff: now,
    holdoutCutoff: now,
  };
}

/** Fresh shoppers: the storefront workload with its ids prefixed. */
function freshShoppers(events, seed, prefix) {
  const w = storefrontEvents({ events, seed });
  const p = (v) => (v === undefined ? v : `${prefix}${v}`);
  return w.events.map((e) => ({ ...e, anonymousId: p(e.anonymousId), userId: p(e.userId), messageId: `${prefix}${e.messageId}` }));
}

async function ingest({ url, writeAuth, events, batches, concurrency }) {
  const bodies = [];
  for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify({ batch: events.slice(i, i + BATCH) }));
  const before = batches.length;
  const t0 = performance.now();
  const posts = await load({ url, concurrency, seconds: 300, maxRequests: bodies.length, makeRequest: (i) => ({ path: "/v1/batch", init: { method: "POST", headers: writeAuth, body: bodies[i] } }) });
  const mine = () => batches.slice(before);
  const processed = () => mine().reduce((n, b) => n + (b.received ?? 0), 0);
  const deadline = performance.now() + 300_000;
  while (processed() < events.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = ((mine().at(-1)?.at ?? performance.now()) - t0) / 1000;
  const sum = (k) => mine().reduce((n, b) => n + (b[k] ?? 0), 0);
  return { events: processed(), seconds, eventsPerSecond: processed() / seconds, postErrors: posts.errors, d1RowsWritten: sum("d1RowsWritten"), transitions: sum("segmentTransitions"), compute: mine().reduce((n, b) => n + (b.timings?.compute ?? 0), 0) };
}

async function waitForRun(url, adminHeaders, runId, timeoutMs = 900_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const run = await (await fetch(`${url}/v1/segments/runs/${runId}`, { headers: adminHeaders })).json();
    if (run.supersededBy) return waitForRun(url, adminHeaders, run.supersededBy, deadline - performance.now());
    if (run.finishedAt || performance.now() > deadline) return run;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const total = (list) => {
  const sum = (k) => list.reduce((n, x) => n + x[k], 0);
  return { events: sum("events"), seconds: sum("seconds"), eventsPerSecond: sum("events") / sum("seconds"), d1RowsPerEvent: sum("d1RowsWritten") / Math.max(1, sum("events")), transitions: sum("transitions"), compute: sum("compute"), postErrors: sum("postErrors") };
};

/**
 * Two fresh servers side by side, one plain and one with 20 segments and both models, fed the same
 * amount of new shoppers in alternating rounds (machine drift hits both); the ratio is the median
 * of the rounds'. Then an evaluation pass over at least `passProfiles` profiles on the second.
 */
export async function benchSegments({ keys, concurrency, events, passProfiles, rounds = 3, stateDir, ports }) {
  const writeAuth = { authorization: `Basic ${btoa(`${keys.write}:`)}`, "content-type": "application/json" };
  const adminHeaders = { authorization: `Bearer ${keys.admin}`, "content-type": "application/json" };
  const plain = await freshServer(ports[0], `${stateDir}-plain`);
  const segmented = await freshServer(ports[1], `${stateDir}-segments`);
  try {
    // Twenty segments and both models on the second server. Saving a segment evaluates every
    // stored profile against it (none yet: measured anyway).
    const s0 = performance.now();
    const runs = [];
    for (const { id, definition } of twentySegments()) {
      const res = await fetch(`${segmented.url}/v1/segments/${id}`, { method: "PUT", headers: adminHeaders, body: JSON.stringify(definition) });
      if (!res.ok) throw new Error(`PUT /v1/segments/${id}: ${res.status} ${await res.text()}`);
      runs.push((await res.json()).runId);
    }
    for (const [name, sign] of [["purchase_30d", 1], ["churn_30d", -1]]) {
      const res = await fetch(`${segmented.url}/v1/admin/models/${name}`, { method: "PUT", headers: adminHeaders, body: JSON.stringify(modelUpload(sign)) });
      if (!res.ok) throw new Error(`PUT /v1/admin/models/${name}: ${res.status} ${await res.text()}`);
    }
    for (const runId of runs) await waitForRun(segmented.url, adminHeaders, runId);
    const applySeconds = (performance.now() - s0) / 1000;

    const perRound = Math.ceil(events / rounds);
    const without = [];
    const withSegments = [];
    for (let r = 0; r < rounds; r++) {
      without.push(await ingest({ url: plain.url, writeAuth, events: freshShoppers(perRound, 100 + r, `sa${r}-`), batches: plain.batches, concurrency }));
      withSegments.push(await ingest({ url: segmented.url, writeAuth, events: freshShoppers(perRound, 100 + r, `sb${r}-`), batches: segmented.batches, concurrency }));
    }
    const ratios = withSegments.map((w, i) => w.eventsPerSecond / without[i].eventsPerSecond).sort((a, b) => a - b);

    // At least `passProfiles` profiles, then one pass over all of them.
    const identifies = Array.from({ length: passProfiles }, (_, i) => ({ type: "identify", anonymousId: `pass-${i}`, traits: { email: `pass${i}@example.com`, plan: i % 5 === 0 ? "vip" : "regular" }, messageId: `pass-${i}` }));
    await ingest({ url: segmented.url, writeAuth, events: identifies, batches: segmented.batches, concurrency });
    const p0 = performance.now();
    const started = await (await fetch(`${segmented.url}/v1/segments/runs`, { method: "POST", headers: adminHeaders })).json();
    const run = await waitForRun(segmented.url, adminHeaders, started.id);
    const passSeconds = (performance.now() - p0) / 1000;
    return {
      without: total(without),
      with: total(withSegments),
      ratio: ratios[Math.floor(ratios.length / 2)],
      roundRatios: withSegments.map((w, i) => w.eventsPerSecond / without[i].eventsPerSecond),
      applySeconds,
      pass: { profiles: run.profiles, changed: run.changed, seconds: passSeconds, finished: Boolean(run.finishedAt), secondsPer100k: (passSeconds * 100_000) / Math.max(1, run.profiles) },
    };
  } finally {
    await Promise.all([plain.stop(), segmented.stop()]);
    for (const dir of [`${stateDir}-plain`, `${stateDir}-segments`]) rmSync(dir, { recursive: true, force: true });
  }
}
