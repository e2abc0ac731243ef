// The capacity plan of docs/scaling.md, computed: shards, queues, write rates, storage and the
// monthly bill of a shop of 1, 10 and 50 million customers, from the per-event and per-customer
// figures `npm run bench` measures and Cloudflare's published limits and list prices. Every
// input is printed with its source; change one with --name value (e.g. --eventsPerCustomerMonth 60).
//
//   node bench/capacity-plan.mjs [--d1BytesPerCustomer 1785] [--peakEventsPerSecond 100000] …
import { pathToFileURL } from "node:url";
import { PRICES } from "./prices.mjs";

/** Measured by `npm run bench` (docs/benchmarks.md, session 17) and assumed: the plan's inputs. */
export const MEASURED = {
  d1BytesPerCustomer: { value: 1785, source: "the largest D1 shard's bytes per customer, bench 'storage after phase 1' (shipped, two shards)" },
  transactionsPerShardPerBatch: { value: 2, source: "write transactions a consumer batch makes in a shard it touches (claims, then profiles): SHARD_1 0.20 per 1,000 events in 4 consumer batches of the bench, 2 each" },
  d1RowsPerEvent: { value: 0.505, source: "D1 rows written per event, ingest probe (shipped, live, two shards)" },
  controlRowsPerEvent: { value: 0.03, source: "of which in the control database (DB's 0.236 less SHARD_1's 0.214 and its share of shard rows), ingest probe" },
  doCallsPerEvent: { value: 0.2, source: "Durable Object requests per event (0.13 storing events), ingest probe" },
  doRowsPerEvent: { value: 0.2, source: "Durable Object rows written per event, ingest probe" },
  costPerMillionEvents: { value: 0.746, source: "list price per million events, ingest probe (Workers, Queues, D1, DO, KV, R2 writes)" },
  probeRequestsAndQueuePerMillion: { value: 0.011, source: "of which Workers requests and Queues operations, with the probe's 500-event POSTs packed 125 events a message" },
  eventBytesInObject: { value: 1200, source: "a stored event in its object: 917 B of JSON plus its share of the chunk row and indexes" },
  archiveBytesPerEvent: { value: 60, source: "R2 raw archive, gzip NDJSON, bench" },
};

export const ASSUMED = {
  eventsPerCustomerMonth: { value: 30, source: "assumed: a customer's events per month, averaged over a shop's customers" },
  peakEventsPerSecond: { value: 100_000, source: "the issue's peak for 50 million customers; smaller shops in proportion" },
  eventsPerRequest: { value: 1, source: "a storefront tag sends one event per request (a Workers request each)" },
  eventsPerQueueMessage: { value: 1, source: "a storefront tag sends one event per request, one queue message each (server-side batches pack up to 125)" },
  messagesPerConsumerBatch: { value: 100, source: "Queues' largest consumer batch (max_batch_size)" },
  customersPerEventInBatch: { value: 0.7, source: "distinct customers per event in a consumer batch (bench: about 0.13 per event with packed shoppers' visits; 0.7 for one-event tag messages)" },
  retentionDays: { value: 90, source: "EVENT_RETENTION_DAYS of production" },
  shardFill: { value: 0.5, source: "shards kept at most half full (room to grow before a move)" },
  archiveMonths: { value: 12, source: "raw archive kept a year" },
};

export const LIMITS = {
  d1DatabaseBytes: 10e9,
  d1WritesPerSecond: 1000, // one writer; about 1,000 transactions/s at 1 ms each
  queueMessagesPerSecond: 5000,
  objectRequestsPerSecond: 1000,
};

const GB = 1e9;

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
  const customersPerBatch = eventsPerBatch * v("customersPerEventInBatch");
  const shardWritesPerSecond = (n) => batchesPerSecond * Math.min(1, customersPerBatch / n) * v("transactionsPerShardPerBatch");
  const shards = Math.max(2, byStorage);
  const queueMessagesPerSecond = peak / v("eventsPerQueueMessage");
  const queues = Math.max(1, Math.ceil(queueMessagesPerSecond / (LIMITS.queueMessagesPerSecond * 0.8)));
  const controlWritesPerSecond = batchesPerSecond;
  const objectBytes = (eventsMonth * (v("retentionDays") / 30)) * v("eventBytesInObject");
  const archiveBytes = eventsMonth * v("archiveMonths") * v("archiveBytesPerEvent");
  // The probe's price, with its requests and queue operations replaced by those of this traffic:
  // a Workers request per `eventsPerRequest` events, three Queues operations per message.
  const perMillion = v("costPerMillionEvents") - v("probeRequestsAndQueuePerMillion") + (PRICES.workersRequest * 1e6) / v("eventsPerRequest") + (3 * PRICES.queueOperation * 1e6) / v("eventsPerQueueMessage");
  const bill = {
    events: (eventsMonth / 1e6) * perMillion,
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
    shardRowsPerSecond: (peak * (v("d1RowsPerEvent") - v("controlRowsPerEvent"))) / shards,
    controlWritesPerSecond,
    controlRowsPerSecond: peak * v("controlRowsPerEvent"),
    queues,
    queueMessagesPerSecond,
    objectRequestsPerSecond: peak * v("doCallsPerEvent"),
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
${row("D1 shards (customers each)", (p) => `${p.shards} (${f(p.customersPerShard / 1e6, 2)} M)`)}
${row("each shard at peak: write transactions/s (rows/s); D1's one writer takes about 1,000/s", (p) => `${f(p.shardWritesPerSecond)} (${f(p.shardRowsPerSecond)})`)}
${row("control database at peak: write transactions/s (rows/s)", (p) => `${f(p.controlWritesPerSecond)} (${f(p.controlRowsPerSecond)})`)}
${row("event queues (messages/s at peak; 5,000/s each)", (p) => `${p.queues} (${f(p.queueMessagesPerSecond)})`)}
${row("Durable Object requests/s at peak (one object: well under 1,000/s)", (p) => f(p.objectRequestsPerSecond))}
${row("Durable Object storage (events, retention)", (p) => `${f(p.objectStorageGb)} GB`)}
${row("R2 raw archive", (p) => `${f(p.archiveGb)} GB`)}
${row("monthly bill: events (writes of every binding)", (p) => `$${f(p.bill.events)}`)}
${row("monthly bill: storage (D1, Durable Objects, R2) and the Workers plan", (p) => `$${f(p.bill.d1Storage + p.bill.objectStorage + p.bill.archiveStorage + p.bill.workersPlan)}`)}
${row("**monthly bill, list prices**", (p) => `**$${f(p.bill.total)}**`)}`);
}
