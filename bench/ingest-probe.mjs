// `npm run bench:ingest`: phase 1 of the benchmark alone (new shoppers, end to end), for working
// on ingest and pipeline speed. It reports what `npm run bench` does not: the CPU time workerd
// spent per 1,000 events (read from /proc, Linux only), and each consumer batch's timings. With
// BENCH_PROFILE=<file.cpuprofile> it also records a CPU profile of the worker's isolate through
// wrangler's inspector (open it in Chrome DevTools). Talks to 127.0.0.1 only and stops by itself.
// Sizes: BENCH_EVENTS (default 40000), BENCH_INGEST_CLIENTS (default 4), BENCH_PORT (default 8940),
// BENCH_REQUEST_EVENTS (events per POST, default 500; a storefront tag's request holds 1 to 3:
// with fewer than INGEST_PACK_EVENTS, requests go through the ingest buffers, which pack them).
// BENCH_CONFIG=shipped configures the server as `npm start` does (trigger recipes pointed at a
// local receiver, segments, tracking plan, content blocks, catalog: scripts/shipped-config.mjs)
// and reports the binding operations per event and their list-price cost; the default is bare.
// BENCH_WORKLOAD=live sends the simulator's shoppers as live traffic (bench/workload.mjs
// liveTraffic, what `npm run bench` measures) instead of the interleaved storefront sessions.
// BENCH_RETURNING=1 measures the returning shoppers of `npm run bench` instead (its phase 3): phase
// 1 runs unmeasured, every identified shopper is read once (which starts their snapshots and
// session objects), then a fifth of the events come again a day later, and that is measured.
import { shardLine } from "./capacity.mjs";
import { rmSync, writeFileSync } from "node:fs";
import { workerdCpuMs } from "./cpu.mjs";
import WebSocket from "ws";
import { DEMO_KEYS, wrangler } from "../scripts/local.mjs";
import { configureShipped } from "../scripts/shipped-config.mjs";
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { costPerMillion } from "./prices.mjs";
import { freshServer } from "./server.mjs";
import { load } from "./load.mjs";
import { WARM_EVENTS, warmUpIngest } from "./warm-up.mjs";
import { liveTraffic, returningEvents, storefrontEvents } from "./workload.mjs";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const CLIENTS = Number(process.env.BENCH_INGEST_CLIENTS ?? 4);
const PORT = Number(process.env.BENCH_PORT ?? 8940);
const PROFILE = process.env.BENCH_PROFILE;
const RETURNING = process.env.BENCH_RETURNING === "1";
const CONFIG = process.env.BENCH_CONFIG ?? "bare";
if (!["bare", "shipped"].includes(CONFIG)) throw new Error("BENCH_CONFIG must be bare or shipped");
const BATCH = Number(process.env.BENCH_REQUEST_EVENTS ?? 500);
// wrangler.toml's INGEST_PACK_EVENTS: requests smaller than this go through an ingest buffer (one object request each).
const PACK_EVENTS = 20;
const WORKLOAD = process.env.BENCH_WORKLOAD ?? "storefront";
if (!["storefront", "live"].includes(WORKLOAD)) throw new Error("BENCH_WORKLOAD must be storefront or live");

/**
 * A minimal Chrome DevTools Protocol client on wrangler's inspector (port 9229). With `ws`: the
 * inspector refuses Node's built-in WebSocket handshake.
 */
async function inspector() {
  const ws = new WebSocket("ws://127.0.0.1:9229/ws");
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("could not connect to wrangler's inspector on 127.0.0.1:9229"));
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const data = JSON.parse(m.data);
    pending.get(data.id)?.(data.result);
    pending.delete(data.id);
  };
  return {
    call: (method, params = {}) => new Promise((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

const stateDir = `.wrangler/ingest-probe-${PORT}`;
rmSync(stateDir, { recursive: true, force: true });
const server = await freshServer(PORT, stateDir);
const { batches, unparsed } = server;
const received = () => batches.reduce((n, b) => n + (b.received ?? 0), 0);
const auth = { authorization: `Basic ${btoa(`${DEMO_KEYS.write}:`)}`, "content-type": "application/json" };
const post = (events) => ({ path: "/v1/batch", init: { method: "POST", headers: auth, body: JSON.stringify({ batch: events }) } });

const receiver = CONFIG === "shipped" ? await startReceiver({ secret: "whsec_local_demo" }) : null;
if (receiver) {
  const shipped = await configureShipped({ url: server.url, adminKey: DEMO_KEYS.admin, destination: `${receiver.url}/webhooks/rapport` });
  console.log(`shipped configuration: ${shipped.triggers.length} triggers, ${shipped.segments.length} segments, ${shipped.plans.length} tracking plan(s), ${shipped.blocks.length} blocks, the demo catalog`);
}

const workload = WORKLOAD === "live" ? liveTraffic({ events: EVENTS }) : storefrontEvents({ events: EVENTS });
let measured = workload.events;
try {
  await warmUpIngest({ url: server.url, headers: auth, batch: BATCH, received });
  batches.length = 0;

  if (RETURNING) {
    await load({ url: server.url, concurrency: CLIENTS, seconds: 300, maxRequests: Math.ceil(measured.length / BATCH), makeRequest: (i) => post(measured.slice(i * BATCH, (i + 1) * BATCH)) });
    const until = performance.now() + 300_000;
    while (received() < workload.events.length && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    const readAuth = { authorization: `Bearer ${DEMO_KEYS.read}` };
    const ids = workload.identified;
    const reads = await load({ url: server.url, concurrency: 8, seconds: 1_200, maxRequests: ids.length, makeRequest: (i) => ({ path: `/v1/customers/${ids[i]}`, init: { headers: readAuth } }) });
    console.log(`read ${reads.requests} of ${ids.length} identified shoppers (${reads.errors} errors); measuring their return`);
    await new Promise((r) => setTimeout(r, 15_000));
    batches.length = 0;
    measured = returningEvents(workload.events);
  }
  const bodies = [];
  for (let i = 0; i < measured.length; i += BATCH) bodies.push(post(measured.slice(i, i + BATCH)));
  const cdp = PROFILE ? await inspector() : null;
  if (cdp) {
    await cdp.call("Profiler.enable");
    await cdp.call("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.call("Profiler.start");
  }
  const cpu0 = workerdCpuMs();
  const t0 = performance.now();
  const posting = await load({ url: server.url, concurrency: CLIENTS, seconds: 300, maxRequests: bodies.length, makeRequest: (i) => bodies[i] });
  const posted = performance.now();
  const deadline = posted + 300_000;
  while (received() < measured.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = ((batches.at(-1)?.at ?? performance.now()) - t0) / 1000;
  const cpu = workerdCpuMs() - cpu0;
  if (cdp) {
    const { profile } = await cdp.call("Profiler.stop");
    writeFileSync(PROFILE, JSON.stringify(profile));
    cdp.close();
  }
  const sum = (k) => batches.reduce((n, b) => n + (b.timings?.[k] ?? 0), 0);
  console.log(`${received()} of ${measured.length} ${RETURNING ? "returning shoppers' " : ""}events in ${seconds.toFixed(2)} s: ${Math.round(received() / seconds)} events/s (posting ${((posted - t0) / 1000).toFixed(2)} s, ${posting.errors} POST errors)`);
  console.log(`workerd CPU: ${cpu} ms, ${(cpu / (measured.length / 1000)).toFixed(1)} ms per 1,000 events`);
  console.log(`consumer: ${batches.length} batches; read ${sum("read")} ms, store ${sum("store")} ms, compute ${sum("compute")} ms, D1 write ${sum("d1")} ms, sessions ${sum("sessions")} ms`);
  for (const b of batches) console.log(`  +${((b.at - t0) / 1000).toFixed(2)} s: ${b.queueMessages} packs, ${b.events} events, ${b.customers} customers, ${b.storeCalls ?? 0} store calls, ${b.storeRowsWritten ?? 0} store rows, ${b.sessionCalls} session calls, ${b.sessionRowsWritten} session rows, ${b.kvWrites} KV writes, ${b.ms} ms ${JSON.stringify(b.timings)}`);
  reportOperations(batches, measured.length, bodies.length, BATCH < PACK_EVENTS && !process.env.BENCH_VARS?.includes("INGEST_BUFFERS:0") ? bodies.length : 0);
  const tally = (k) => batches.reduce((n, b) => n + (b[k] ?? 0), 0);
  console.log(`consumer: ${tally("duplicates")} duplicates, ${tally("suppressed")} suppressed, ${tally("refusals")} identity refusals, ${tally("unattributable")} unattributable, ${tally("merges")} merges, ${tally("commitAttempts")} commit attempts`);
  if (unparsed.length > 0) console.log(`consumer log lines that could not be read: ${unparsed.length}; first: ${unparsed[0]}`);
  if (server.bypassed.length > 0) console.log(`ingest buffers bypassed: ${server.bypassed.length}; first: ${server.bypassed[0].slice(0, 600)}`);
  if (server.failures.length > 0) console.log(`consumer failures (batches isolated or messages retried): ${server.failures.length}; first: ${server.failures[0].slice(0, 2_000)}`);
  if (PROFILE) console.log(`CPU profile: ${PROFILE}`);
} finally {
  await server.stop();
  await receiver?.close();
}
// Every event accounted for in D1 itself, not only in the consumer's log lines.
// Every D1 shard's profiles (SHARDS of wrangler.toml: DB and SHARD_1).
const SHARD_BINDINGS = ["DB", "SHARD_1"];
const d1Sum = (query) => SHARD_BINDINGS.reduce((n, binding) => n + (JSON.parse(wrangler(["d1", "execute", binding, "--local", "--json", "--command", query], { stateDir }))[0].results[0].n ?? 0), 0);
const stored = d1Sum("SELECT sum(event_count) AS n FROM customers");
const sent = workload.events.length + WARM_EVENTS + (RETURNING ? measured.length : 0);
console.log(`stored in D1: ${stored} of the ${sent} events sent (warm-up included)${stored === sent ? "" : " (NOT ALL STORED)"}`);
// Where D1 rows go: the rows each table holds after the run (rows written count upserts again).
const TABLES = ["customers", "identities", "event_chunks", "product_viewers", "product_stats", "products", "tracking_violations", "quarantine", "segment_members", "segment_stats"];
for (const binding of SHARD_BINDINGS) {
  const census = JSON.parse(wrangler(["d1", "execute", binding, "--local", "--json", "--command", `SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ")}`], { stateDir }))[0].results[0];
  console.log(`rows held in ${binding} after the run: ${TABLES.map((t) => `${t} ${census[t]}`).join(", ")}`);
}
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);

/** Binding operations per event, and what they cost at list prices per million events. */
function reportOperations(batches, events, requests, bufferCalls) {
  const total = (k) => batches.reduce((n, b) => n + (b[k] ?? 0), 0);
  const per = (n) => n / Math.max(1, events);
  // Object calls and rows: storing events before the commit, and the sessions after it.
  const doCalls = total("sessionCalls") + total("storeCalls");
  const doRows = total("sessionRowsWritten") + total("storeRowsWritten");
  const ops = { d1: per(total("d1RowsWritten")), kv: per(total("kvWrites")), doCalls: per(doCalls), doRows: per(doRows), storeCalls: per(total("storeCalls")) };
  const cost = costPerMillion({ events, requests: requests + batches.length, queueOps: 3 * total("queueMessages"), d1RowsWritten: total("d1RowsWritten"), kvWrites: total("kvWrites"), sessionCalls: doCalls, sessionRowsWritten: doRows, archiveWrites: batches.length, bufferCalls });
  console.log(`queue messages: ${total("queueMessages")} for ${events} events in ${requests} requests (${(events / Math.max(1, total("queueMessages"))).toFixed(1)} events a message; ${bufferCalls} ingest buffer calls)`);
  const usd = (x) => `$${x.toFixed(3)}`;
  console.log(`per event: ${ops.d1.toFixed(3)} D1 rows, ${ops.kv.toFixed(3)} KV writes, ${ops.doCalls.toFixed(3)} Durable Object calls (${ops.storeCalls.toFixed(3)} storing events), ${ops.doRows.toFixed(3)} Durable Object rows`);
  console.log(`list price per million events: ${usd(cost.total)} (D1 ${usd(cost.d1)}, Durable Objects ${usd(cost.durableObjects)}, KV ${usd(cost.kv)}, Queues ${usd(cost.queues)}, Workers ${usd(cost.workers)}, R2 ${usd(cost.r2)})`);
  console.log(`D1 per shard, per event (DB is also the control database): ${shardLine(batches, events)}`);
}
