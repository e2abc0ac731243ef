// Before ingest is measured: 4,000 events of other shoppers (every identifier prefixed `warm-`,
// emails included, so that none of them links to a measured shopper), posted and processed, so
// that V8 has compiled ingest and the consumer. Without it the first seconds of a run measure the
// compiler (the GET phase has its own warm-up: the first read of each shopper).
import { load } from "./load.mjs";
import { storefrontEvents } from "./workload.mjs";

export const WARM_EVENTS = 4_000;

/**
 * Posts the warm-up events in batches and waits (at most a minute) until `received()` (events the
 * consumer's log lines account for) reaches them.
 */
export async function warmUpIngest({ url, headers, batch, received }) {
  const events = storefrontEvents({ events: WARM_EVENTS }).events.map((e) => ({
    ...e,
    messageId: `warm-${e.messageId}`,
    anonymousId: e.anonymousId && `warm-${e.anonymousId}`,
    userId: e.userId && `warm-${e.userId}`,
    ...(e.traits?.email ? { traits: { ...e.traits, email: `warm-${e.traits.email}` } } : {}),
  }));
  const before = received();
  // Small requests wait for their ingest buffer's pack (up to 50 ms): sent one at a time, 4,000
  // events would not fit in the minute. Concurrent, they are packed as the measured ones are.
  await load({ url, concurrency: batch < 20 ? 50 : 1, seconds: 60, maxRequests: Math.ceil(events.length / batch), makeRequest: (i) => ({ path: "/v1/batch", init: { method: "POST", headers, body: JSON.stringify({ batch: events.slice(i * batch, (i + 1) * batch) }) } }) });
  const deadline = performance.now() + 60_000;
  while (received() - before < events.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1_000));
}
