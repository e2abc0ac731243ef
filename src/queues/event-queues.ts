/**
 * The event queues of a deployment. One queue takes 5,000 messages a second; a deployment that
 * needs more declares EVENT_QUEUES = n and binds `EVENTS`, `EVENTS_1` … `EVENTS_<n-1>` (queues
 * `rapport-events`, `rapport-events-1` …, each with its consumer): docs/scaling.md. Every events
 * queue is consumed by the same pipeline, so a message may go to any of them; ingest keeps one
 * shopper's requests on one queue (by the shopper's hash), so that their events meet in batches.
 */
import { readConfig } from "../model/config";
import { fnv1a32 } from "../kernel/fnv";

/** The producer binding of events queue `index` (0 is `EVENTS`). */
export const eventQueueBinding = (index: number) => (index === 0 ? "EVENTS" : `EVENTS_${index}`);

/** The queue name suffix of events queue `index`: `rapport-events` + this + QUEUE_SUFFIX. */
export const eventQueueTail = (index: number) => (index === 0 ? "" : `-${index}`);

/** Events queue `index`, checked: a missing binding is a configuration error, said plainly. */
export function eventQueue(env: Env, index: number): Queue {
  const binding = eventQueueBinding(index);
  const queue = (env as unknown as Record<string, unknown>)[binding];
  if (!queue || typeof (queue as Queue).sendBatch !== "function") {
    throw new Error(`EVENT_QUEUES = ${readConfig(env).eventQueues} needs a queue producer bound as ${binding} (wrangler.toml)`);
  }
  return queue as Queue;
}

/** Which events queue (and which ingest buffer) a shopper's requests go to. */
export const placeOf = (personKey: string, count: number) => placeOfHash(fnv1a32(personKey), count);

/** The same from the key's hash, when it picks several things (a buffer and a queue). */
export const placeOfHash = (hash: number, count: number) => (count <= 1 ? 0 : hash % count);
