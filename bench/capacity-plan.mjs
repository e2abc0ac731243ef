// The capacity plan of docs/scaling.md, computed: shards, queues, write rates, storage and the
// monthly bill of a shop of 1, 10 and 50 million customers, from the per-event and per-customer
// figures `npm run bench` measures and Cloudflare's published limits and list prices. Every
// input is printed with its source; change one with --name value (e.g. --eventsPerCustomerMonth 60).
//
//   node bench/capacity-plan.mjs [--d1BytesPerCustomer 1785] [--peakEventsPerSecond 100000] …
import { pathToFileURL } from "node:url";
import { PRICES } from "./prices.mjs";

/**
 * Measured by the benchmark (docs/benchmarks.md, sessions 17 and 18) and assumed: the plan's
 * inputs. Per-customer costs are per *touch* (one customer in one consumer batch): what a batch
 * writes grows with the customers it touches, not with their events (a customer's events in one
 * batch are one row, one object call). The benchmark's workload packs 90 days into an hour, so
 * its shoppers' events meet in batches far more than a real shop's at peak, where a batch spans
 * milliseconds and nearly every event touches its own customer: per-event figures taken from the
 * benchmark as they are would understate the bill.
 */
export const MEASURED = {
  d1BytesPerCustomer: { value: 1785, source: "the largest D1 shard's bytes per customer, bench 'storage after phase 1' (shipped, two shards)" },
  transactionsPerShardPerBatch: { value: 2, source: "write transactions a consumer batch makes in a shard it touches (claims, then profiles): SHARD_1 0.20 per 1,000 events in 4 consumer batches of the bench, 2 each" },
  d1RowsPerTouch: { value: 4.63, source: "D1 rows written per customer touched in a batch (index entries included): 1.217 rows and 0.263 touches per event, ingest probe with 2-event requests (shipped, live, session 18); 4.18 with 500-event requests" },
  controlRowsPerEvent: { value: 0.03, source: "D1 rows per event in the control database (counters, segment stats), ingest probe" },
  doCallsPerTouch: { value: 1.59, source: "Durable Object requests per customer touched (its events stored: 1; its session: 0.59), same probe" },
  doRowsPerTouch: { value: 1.48, source: "Durable Object rows written per customer touched, same probe" },
  eventsPerQueueMessage: { value: 15.4, source: "events per queue message with packing at the edge: 2-event requests from 100 concurrent clients through the ingest buffers (20 at most; 2.0 without buffers), same probe" },
  eventBytesInObject: { value: 1200, source: "a stored event in its object: 917 B of JSON plus its share of the chunk row and indexes" },
  archiveBytesPerEvent: { value: 60, source: "R2 raw archive, gzip NDJSON, bench" },
};

export const ASSUMED = {
  eventsPerCustomerMonth: { value: 30, source: "assumed: a customer's events per month, averaged over a shop's customers" },
  peakEventsPerSecond: { value: 100_000, source: "the issue's peak for 50 million customers; smaller shops in proportion" },
  eventsPerRequest: { value: 1, source: "a storefront tag's request: one event (it sends what gathered in a second; often one)" },
  touchesPerEvent: { value: 0.7, source: "customers touched per event at a shop's peak (a batch spans milliseconds: most events meet no other event of their customer; bench: 0.13 to 0.26 with 90 days in an hour)" },
  messagesPerConsumerBatch: { value: 100, source: "Queues' largest consumer batch (max_batch_size)" },
  bufferSecondsPerRequest: { value: 0.05, source: "an ingest buffer's billed duration per request, at most: INGEST_PACK_WAIT_MS, none shared (128 MB objects)" },
  retentionDays: { value: 90, source: "EVENT_RETENTION_DAYS of production" },
  shardFill: { value: 0.5, source: "shards kept at most half full (room to grow before a move)" },
  archiveMonths: { value: 12, source: "raw archive kept a year" },
  d1RowsPerSecond: { value: 10_000, source: "assumed: rows one D1 database writes a second in batched transactions (not published; the local runtime wrote about 8,200 a second on one busy thread, JavaScript included); shards are kept at half of it" },
};

export const LIMITS = {
  d1DatabaseBytes: 10e9,
  d1WritesPerSecond: 1000, // one writer; about 1,000 transactions/s at 1 ms each
  queueMessagesPerSecond: 5000,
  objectRequestsPerSecond: 1000,
};

const GB = 1e9;

/**
 * The list price of a million events, by binding: a Workers request per `eventsPerRequest`
 * events and an ingest buffer request (with its billed duration) each; three Queues operations
 * per message; D1 rows, object requests and rows per customer touched; an R2 object per batch.
 */
export function costPerMillionEvents(v) {
  const million = 1e6;
  const touches = million * v("touchesPerEvent");
  const requests = million / v("eventsPerRequest");
  const parts = {
    workers: requests * PRICES.workersRequest,
    buffers: requests * (PRICES.doRequest + v("bufferSecondsPerRequest") * 0.128 * PRICES.doGbSecond),
    queues: (million / v("eventsPerQueueMessage")) * 3 * PRICES.queueOperation,
    d1: (touches * v("d1RowsPerTouch") + million * v("controlRowsPerEvent")) * PRICES.d1RowWritten,
    objects: touches * (v("doCallsPerTouch") * PRICES.doRequest + v("doRowsPerTouch") * PRICES.doRowWritten),
    r2: (million / (v("messagesPerConsumerBatch") * v("eventsPerQueueMessage"))) * PRICES.r2ClassA,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** The plan of one shop size. */
export function planFor(customers, inputs = { ...MEASURED, ...ASSUMED }) {
  const v = (k) => inputs[k].value;
  const peak = (v("peakEventsPerSecond") * customers) / 50e6;
  const eventsMonth = customers * v("eventsPerCustomerMonth");
  const d1Bytes = customers * v("d1BytesPerCustomer");
  const byStorage = Math.ceil(d1Bytes / (LIMITS.d1DatabaseBytes * v("shardFill")));
  // Each consumer batch writes a transaction per phase in each shard its customers live in (claims,
  // then profiles) and one in the control database: a shard takes about min(1, customers per batch
  // / shards) of the batches.
  const eventsPerBatch = v("messagesPerConsumerBatch") * v("eventsPerQueueMessage");
  const batchesPerSecond = peak / eventsPerBatch;
  const customersPerBatch = eventsPerBatch * v("touchesPerEvent");
  const shardWritesPerSecond = (n) => batchesPerSecond * Math.min(1, customersPerBatch / n) * v("transactionsPerShardPerBatch");
  const shardRows = peak * v("touchesPerEvent") * v("d1RowsPerTouch");
  const byWrites = Math.ceil(shardRows / (v("d1RowsPerSecond") * v("shardFill")));
  const shards = Math.max(2, byStorage, byWrites);
  const queueMessagesPerSecond = peak / v("eventsPerQueueMessage");
  const queues = Math.max(1, Math.ceil(queueMessagesPerSecond / (LIMITS.queueMessagesPerSecond * 0.8)));
  const controlWritesPerSecond = batchesPerSecond;
  const objectBytes = (eventsMonth * (v("retentionDays") / 30)) * v("eventBytesInObject");
  const archiveBytes = eventsMonth * v("archiveMonths") * v("archiveBytesPerEvent");
  const perMillion = costPerMillionEvents(v);
  const bill = {
    events: (eventsMonth / 1e6) * perMillion.total,
    d1Storage: Math.max(0, d1Bytes / GB - 5) * PRICES.d1StorageGbMonth,
    objectStorage: Math.max(0, objectBytes / GB - 5) * PRICES.doStorageGbMonth,
    archiveStorage: Math.max(0, archiveBytes / GB - 10) * PRICES.r2StorageGbMonth,
    workersPlan: 5,
  };
  return {
    customers,
    peakEventsPerSecond: peak,
    eventsPerMonth: eventsMonth,
    d1Gb: d1Bytes / GB,
    shards,
    customersPerShard: customers / shards,
    shardWritesPerSecond: shardWritesPerSecond(shards),
    shardRowsPerSecond: shardRows / shards,
    shardsBy: byWrites > byStorage ? "writes" : "storage",
    controlWritesPerSecond,
    controlRowsPerSecond: peak * v("controlRowsPerEvent"),
    queues,
    queueMessagesPerSecond,
    objectRequestsPerSecond: peak * v("touchesPerEvent") * v("doCallsPerTouch"),
    bufferRequestsPerSecond: peak / v("eventsPerRequest"),
    perMillion,
    objectStorageGb: objectBytes / GB,
    archiveGb: archiveBytes / GB,
    bill: { ...bill, total: Object.values(bill).reduce((a, b) => a + b, 0) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const inputs = structuredClone({ ...MEASURED, ...ASSUMED });
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    if (!inputs[name]) throw new Error(`Unknown input ${name}: ${Object.keys(inputs).join(", ")}`);
    inputs[name].value = Number(argv[i + 1]);
  }
  for (const [k, { value, source }] of Object.entries(inputs)) console.log(`${k} = ${value}  (${source})`);
  const plans = [1e6, 10e6, 50e6].map((n) => planFor(n, inputs));
  const f = (x, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const row = (label, get) => `| ${label} | ${plans.map(get).join(" | ")} |`;
  console.log(`
| | 1 M customers | 10 M customers | 50 M customers |
| --- | --- | --- | --- |
${row("events per month / peak events per second", (p) => `${f(p.eventsPerMonth / 1e6)} M / ${f(p.peakEventsPerSecond)}`)}
${row("D1 profiles and indexes", (p) => `${f(p.d1Gb, 1)} GB`)}
${row("D1 shards (customers each), and what sets their number", (p) => `${p.shards} (${f(p.customersPerShard / 1e6, 2)} M), ${p.shardsBy}`)}
${row("each shard at peak: write transactions/s (rows/s); D1's one writer takes about 1,000/s", (p) => `${f(p.shardWritesPerSecond)} (${f(p.shardRowsPerSecond)})`)}
${row("control database at peak: write transactions/s (rows/s)", (p) => `${f(p.controlWritesPerSecond)} (${f(p.controlRowsPerSecond)})`)}
${row("event queues (messages/s at peak; 5,000/s each)", (p) => `${p.queues} (${f(p.queueMessagesPerSecond)})`)}
${row("customers' Durable Object requests/s at peak (one object: well under 1,000/s)", (p) => f(p.objectRequestsPerSecond))}
${row("ingest buffer requests/s at peak (objects busy at 500/s each)", (p) => `${f(p.bufferRequestsPerSecond)} (${f(Math.ceil(p.bufferRequestsPerSecond / 500))})`)}
${row("Durable Object storage (events, retention)", (p) => `${f(p.objectStorageGb)} GB`)}
${row("R2 raw archive", (p) => `${f(p.archiveGb)} GB`)}
${row("list price per million events", (p) => `$${f(p.perMillion.total, 2)} (D1 $${f(p.perMillion.d1, 2)}, objects $${f(p.perMillion.objects, 2)}, Workers and buffers $${f(p.perMillion.workers + p.perMillion.buffers, 2)}, Queues $${f(p.perMillion.queues, 2)})`)}
${row("monthly bill: events (writes of every binding)", (p) => `$${f(p.bill.events)}`)}
${row("monthly bill: storage (D1, Durable Objects, R2) and the Workers plan", (p) => `$${f(p.bill.d1Storage + p.bill.objectStorage + p.bill.archiveStorage + p.bill.workersPlan)}`)}
${row("**monthly bill, list prices**", (p) => `**$${f(p.bill.total)}**`)}`);
}
