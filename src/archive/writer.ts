/**
 * The raw event archive: every accepted event, as the pipeline received it, written to R2 as
 * gzip-compressed NDJSON, one object per consumer batch and hour of receipt, under
 *
 *   events/dt=YYYY-MM-DD/hour=HH/<batch>.ndjson.gz
 *
 * a Hive-style layout that BigQuery, Snowflake, DuckDB or Spark read as a partitioned table
 * (`read_json('r2://…/events/*\/*\/*.ndjson.gz', hive_partitioning = true)` in DuckDB).
 *
 * Written by the queue consumer alongside processing. The object's name is a hash of the packs it
 * holds, so a redelivered batch rewrites the same object; a batch split after a failure writes its
 * packs again under other names, so the archive is at-least-once: readers dedupe by `messageId`
 * (replay does, through the pipeline).
 */
import type { EventPack, StoredEvent } from "../model/events";
import { sha256Hex } from "../kernel/crypto";
import { eventJson } from "../model/event-json";
import { gzip as zlibGzip } from "node:zlib";

export const ARCHIVE_PREFIX = "events/";

/** `events/dt=2026-11-24/hour=08/` for an instant. */
export function hourPrefix(at: number): string {
  const iso = new Date(at).toISOString();
  return `${ARCHIVE_PREFIX}dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

export const dayPrefix = (day: string) => `${ARCHIVE_PREFIX}dt=${day}/`;

/**
 * gzip at level 1: the consumer compresses every event it archives, on the isolate that processes
 * the batch. CompressionStream has no level and compresses about three times slower (measured in
 * workerd: 8 ms against 2.4 ms per MB); level 1 makes files about a third larger, which R2 storage
 * prices at fractions of a cent.
 */
export async function gzip(text: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => zlibGzip(text, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))));
}

export async function gunzipLines(body: ReadableStream<Uint8Array>): Promise<StoredEvent[]> {
  const text = await new Response(body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as StoredEvent);
}

/** Writes the packs' events; returns the objects written. */
export async function archivePacks(bucket: R2Bucket, packs: readonly EventPack[]): Promise<string[]> {
  const byHour = new Map<string, EventPack[]>();
  for (const p of packs) {
    if (p.events.length === 0) continue;
    const prefix = hourPrefix(Date.parse(p.receivedAt));
    byHour.set(prefix, [...(byHour.get(prefix) ?? []), p]);
  }
  const keys: string[] = [];
  await Promise.all(
    [...byHour].map(async ([prefix, group]) => {
      const name = (await sha256Hex(group.map((p) => p.packId).sort().join(","))).slice(0, 32);
      const events = group.flatMap((p) => p.events);
      const times = events.map((e) => Date.parse(e.timestamp)).filter(Number.isFinite);
      if (times.length === 0) times.push(Date.parse(group[0]!.receivedAt));
      const key = `${prefix}${name}.ndjson.gz`;
      await bucket.put(key, await gzip(`${events.map(eventJson).join("\n")}\n`), {
        httpMetadata: { contentType: "application/gzip" },
        customMetadata: { events: String(events.length), packs: String(group.length), minTimestamp: new Date(Math.min(...times)).toISOString(), maxTimestamp: new Date(Math.max(...times)).toISOString() },
      });
      keys.push(key);
    }),
  );
  return keys;
}
