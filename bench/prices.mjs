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
  r2ClassA: 4.5 / 1e6, // the raw archive: one object per consumer batch (and hour)
};
