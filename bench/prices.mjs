// The list prices every benchmark figure of cost is computed with.
/** Cloudflare list prices (Workers Paid), USD. */
export const PRICES = {
  workersRequest: 0.3 / 1e6,
  queueOperation: 0.4 / 1e6, // per 64 KB written, read or deleted
  d1RowWritten: 1.0 / 1e6,
  kvWrite: 5.0 / 1e6,
  kvRead: 0.5 / 1e6,
  doRequest: 0.15 / 1e6, // Durable Object requests, alarms included
  doRowWritten: 1.0 / 1e6, // SQLite-backed Durable Object storage
  doGbSecond: 12.5 / 1e6, // Durable Object duration, while active (128 MB per object)
  r2ClassA: 4.5 / 1e6, // the raw archive: one object per consumer batch (and hour)
  // Storage, per GB-month beyond what the plan includes (D1 5 GB, Durable Objects 5 GB, R2 10 GB).
  d1StorageGbMonth: 0.75,
  doStorageGbMonth: 0.2,
  r2StorageGbMonth: 0.015,
};

/**
 * List price per million events of what a run used, by binding. `queueOps`: Queue operations
 * (three per message of up to 64 KB: write, read, delete); `requests`: Workers requests (ingest
 * POSTs and consumer invocations); `archiveWrites`: R2 objects (one per consumer batch);
 * `bufferCalls`: ingest buffer object requests (one per small ingest request, src/ingest/buffer.ts).
 */
export function costPerMillion({ events, requests, queueOps, d1RowsWritten, kvWrites, sessionCalls, sessionRowsWritten, archiveWrites, bufferCalls = 0 }) {
  const perMillion = (n) => (n / Math.max(1, events)) * 1e6;
  const cost = {
    workers: perMillion(requests) * PRICES.workersRequest,
    queues: perMillion(queueOps) * PRICES.queueOperation,
    d1: perMillion(d1RowsWritten) * PRICES.d1RowWritten,
    kv: perMillion(kvWrites) * PRICES.kvWrite,
    durableObjects: perMillion(sessionCalls + bufferCalls) * PRICES.doRequest + perMillion(sessionRowsWritten) * PRICES.doRowWritten,
    r2: perMillion(archiveWrites) * PRICES.r2ClassA,
  };
  return { ...cost, total: Object.values(cost).reduce((a, b) => a + b, 0) };
}
