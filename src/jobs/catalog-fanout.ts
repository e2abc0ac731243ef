/**
 * Catalog changes reach customers through the jobs queue, in two steps so that neither an HTTP
 * request nor one consumer invocation has unbounded work:
 *
 *   catalog_fanout {change, after}   pages through the product's recent viewers (1,000 at a time),
 *                                    queues notify jobs of 100 customers, then the next page
 *   catalog_notify {change, ids}     gives each customer's session object the change as an event
 *                                    (`Price Dropped` / `Back In Stock`); triggers start on it
 *
 * Both are idempotent: the event's id and time are those of the change, and a timer already
 * started by the same event is not started again.
 */
import { loadMergedAway } from "../profiles/merges";
import { loadProfiles } from "../profiles/store";
import { type ShardMap, shards } from "../db/shards";
import { readConfig } from "../model/config";
import type { StoredEvent } from "../model/events";
import { log } from "../kernel/log";
import { sessionStub } from "../sessions/contract";
import { concerns } from "../triggers/match";
import { activeTriggers } from "../triggers/store";
import type { CatalogJob, TimedChange } from "../model/jobs";
import { viewersOf } from "../catalog/store";

const PAGE = 1_000;
const NOTIFY_GROUP = 100;

/** The event a catalog change is for one customer. */
export function changeEvent(change: TimedChange): StoredEvent {
  const time = new Date(change.at).toISOString();
  return { messageId: `catalog:${change.event}:${change.productId}:${change.at}`, type: "track", event: change.event, properties: change.properties, timestamp: time, receivedAt: time, sourceId: "catalog" };
}

export async function runCatalogJob(env: Env, job: CatalogJob): Promise<void> {
  if (job.kind === "catalog_fanout") {
    const since = job.change.at - readConfig(env).catalogAudienceDays * 86_400_000;
    const viewers = await viewersOf(shards(env), job.change.productId, since, job.after, PAGE);
    const jobs: CatalogJob[] = [];
    for (let i = 0; i < viewers.length; i += NOTIFY_GROUP) jobs.push({ v: 1, kind: "catalog_notify", change: job.change, customerIds: viewers.slice(i, i + NOTIFY_GROUP) });
    if (viewers.length === PAGE) jobs.push({ v: 1, kind: "catalog_fanout", change: job.change, after: viewers[viewers.length - 1]! });
    for (let i = 0; i < jobs.length; i += 100) await env.JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
    log("info", "catalog.fanout", { productId: job.change.productId, event: job.change.event, viewers: viewers.length });
    return;
  }
  const event = changeEvent(job.change);
  const triggers = (await activeTriggers(env.DB)).filter((t) => concerns(t, event));
  if (triggers.length === 0) return;
  const current = await currentIds(shards(env), job.customerIds);
  await Promise.all([...current].map((customerId) => sessionStub(env, customerId).notify({ customerId, events: [event], triggers })));
}

/** The customers as they are now: merged-away ids become their survivors, erased ones drop out. */
async function currentIds(map: ShardMap, ids: readonly string[]): Promise<Set<string>> {
  const live = await loadProfiles(map, ids, { events: "summary" });
  const merged = await loadMergedAway(map, ids.filter((id) => !live.has(id)));
  const survivors = await loadProfiles(map, [...new Set([...merged.values()].map((m) => m.survivorId))], { events: "summary" });
  return new Set([...live.keys(), ...survivors.keys()]);
}
