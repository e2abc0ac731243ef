// The trigger phases of `npm run bench`:
//   1. due → delivered: timers due a few seconds after ingest, delivered to a real receiver on
//      127.0.0.1; latency from each timer's due time to the webhook's arrival; storage rows and
//      operations per fired trigger, from the worker's logs;
//   2. timer creation: one new shopper per event, each starting a 2-day timer (one Durable Object
//      per shopper, one timer row each), first POST to last batch processed. Last, because its
//      100k objects load the local runtime for a while after.
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { load, quantile } from "./load.mjs";

const BATCH = 500;
/**
 * New shoppers per second in the timer-creation phase. Locally every Durable Object is a SQLite
 * file that workerd keeps open until it evicts the idle object; faster than this, 100k objects
 * exhaust the machine's file descriptors (SQLITE_CANTOPEN). Cloudflare spreads objects over
 * machines and has no such ceiling.
 */
const CREATION_RATE = Number(process.env.BENCH_TIMER_RATE ?? 200);

async function waitFor(check, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
}

export async function benchTriggers({ url, keys, logs, customers, dueTriggers, concurrency }) {
  const admin = { authorization: `Bearer ${keys.admin}`, "content-type": "application/json" };
  const write = { authorization: `Basic ${btoa(`${keys.write}:`)}`, "content-type": "application/json" };
  const receiver = await startReceiver();
  const put = async (id, definition) => {
    const res = await fetch(`${url}/v1/triggers/${id}`, { method: "PUT", headers: admin, body: JSON.stringify(definition) });
    if (!res.ok) throw new Error(`PUT trigger ${id}: ${res.status} ${await res.text()}`);
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  /** One client, paced to `rate` events per second. */
  const postPaced = async (events, rate) => {
    const started = performance.now();
    let errors = 0;
    for (let i = 0; i < events.length; i += BATCH) {
      const res = await fetch(`${url}/v1/batch`, { method: "POST", headers: write, body: JSON.stringify({ batch: events.slice(i, i + BATCH) }) });
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
      const due = started + ((i + BATCH) / rate) * 1000;
      if (performance.now() < due) await sleep(due - performance.now());
    }
    return { errors };
  };
  const post = (events) => {
    const bodies = [];
    for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify({ batch: events.slice(i, i + BATCH) }));
    return load({ url, concurrency, seconds: 600, maxRequests: bodies.length, makeRequest: (i) => ({ path: "/v1/batch", init: { method: "POST", headers: write, body: bodies[i] } }) });
  };
  const sum = (list, k) => list.reduce((n, b) => n + (b[k] ?? 0), 0);
  const eventsIn = (list) => list.reduce((n, b) => n + (b.received ?? b.events + b.duplicates + (b.suppressed ?? 0)), 0);

  try {
    // ---- 1. Due → delivered --------------------------------------------------------------------
    await put("bench-due", { name: "Bench due", start: { event: "Bench Due" }, wait: { minutes: 0.1 }, destination: { url: `${receiver.url}/webhooks/bench` } });
    const a0 = logs.alarms.length;
    const d0 = logs.deliveries.length;
    const b1 = logs.batches.length;
    const due = Array.from({ length: dueTriggers }, (_, i) => ({ type: "track", anonymousId: `due-${i}`, event: "Bench Due", properties: {}, messageId: `bd-${i}-${Date.now()}`, timestamp: new Date().toISOString() }));
    await post(due);
    const received = async () => (await (await fetch(`${receiver.url}/_received/bench`)).json());
    let got = [];
    const deadline = performance.now() + 180_000;
    while (got.length < dueTriggers && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      got = await received();
    }
    const latencies = got.map((g) => g.at - Date.parse(JSON.parse(g.body).dueAt));
    // Let the last alarms' and deliveries' log lines arrive.
    await new Promise((r) => setTimeout(r, 2_000));
    const alarms = logs.alarms.slice(a0).filter((a) => a.due > 0);
    const deliveries = logs.deliveries.slice(d0);
    const dueBatches = logs.batches.slice(b1);
    const fired = got.length;
    const dueResult = {
      triggers: dueTriggers,
      delivered: fired,
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      max: Math.max(...latencies),
      alarmsRun: alarms.length,
      // Rows per fired trigger: the timer's creation (the session-state row is the batch's, not the trigger's), then the alarm's firing.
      doRowsCreate: (sum(dueBatches, "sessionRowsWritten") + sum(dueBatches, "storeRowsWritten") - sum(dueBatches, "sessionCalls") - sum(dueBatches, "storeCalls")) / Math.max(1, fired),
      doRowsFire: sum(alarms, "rowsWritten") / Math.max(1, fired),
      d1RowsDelivery: sum(deliveries, "d1RowsWritten") / Math.max(1, fired),
      deliveryAttempts: deliveries.length / Math.max(1, fired),
    };
    // ---- 2. Timer creation for `customers` new shoppers ----------------------------------------
    await put("bench-timers", { name: "Bench timers", start: { event: "Bench Viewed" }, key: "product_id", wait: { days: 2 }, destination: { url: `${receiver.url}/webhooks/never` } });
    const now = Date.now();
    const creation = Array.from({ length: customers }, (_, i) => ({ type: "track", anonymousId: `timer-${i}`, event: "Bench Viewed", properties: { product_id: `sku-${i % 200}` }, messageId: `bt-${i}`, timestamp: new Date(now).toISOString() }));
    const b0 = logs.batches.length;
    const t0 = performance.now();
    const posted = await postPaced(creation, CREATION_RATE);
    await waitFor(() => eventsIn(logs.batches.slice(b0)) >= customers, 2_400_000);
    const created = logs.batches.slice(b0);
    const creationSeconds = ((created.at(-1)?.at ?? performance.now()) - t0) / 1000;
    const creationResult = {
      rate: CREATION_RATE,
      customers: eventsIn(created),
      seconds: creationSeconds,
      timersPerSecond: eventsIn(created) / creationSeconds,
      postErrors: posted.errors,
      sessionCalls: sum(created, "sessionCalls") + sum(created, "storeCalls"),
      sessionRowsWritten: sum(created, "sessionRowsWritten") + sum(created, "storeRowsWritten"),
      d1RowsWritten: sum(created, "d1RowsWritten"),
    };

    return { creation: creationResult, due: dueResult };
  } finally {
    for (const id of ["bench-due", "bench-timers"]) await fetch(`${url}/v1/triggers/${id}`, { method: "DELETE", headers: admin });
    await receiver.close();
  }
}
