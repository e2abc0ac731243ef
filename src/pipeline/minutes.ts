/**
 * The pipeline's figures per minute (db/schema.ts `pipeline_minutes`): each consumer batch adds
 * what it saw, in one upsert. Best effort: a failure to write them is logged, never fails the
 * batch (its events are committed already).
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { describeError, log } from "../kernel/log";
import type { EventPack } from "../model/events";
import type { ProcessStats } from "./process";
import { FRESHNESS_BOUNDS_MS } from "../model/freshness";


export interface MinuteFigures {
  minute: number;
  received: number;
  applied: number;
  duplicates: number;
  quarantined: number;
  lagMaxMs: number;
  fresh: [number, number, number, number];
}

/** What a batch adds: `started` when the consumer took it, `now` when its profiles were written. */
export function figuresOf(stats: Pick<ProcessStats, "received" | "events" | "duplicates">, packs: readonly EventPack[], started: number, now: number): MinuteFigures {
  const fresh: MinuteFigures["fresh"] = [0, 0, 0, 0];
  let lagMaxMs = 0;
  for (const p of packs) {
    const receivedAt = Date.parse(p.receivedAt);
    lagMaxMs = Math.max(lagMaxMs, started - receivedAt);
    const age = now - receivedAt;
    const bucket = FRESHNESS_BOUNDS_MS.findIndex((b) => age <= b);
    const i = (bucket === -1 ? 3 : bucket) as 0 | 1 | 2 | 3;
    fresh[i] += p.events.length;
  }
  const quarantined = packs.reduce((n, p) => n + p.rejected.length, 0);
  return { minute: Math.floor(now / 60_000), received: stats.received, applied: stats.events - stats.duplicates, duplicates: stats.duplicates, quarantined, lagMaxMs: Math.max(0, lagMaxMs), fresh };
}

/** Adds a batch's figures to its minute; returns the rows written (1, or 0 when it failed). */
export async function recordMinute(d1: D1Database, f: MinuteFigures): Promise<number> {
  try {
    await database(d1).run(sql`INSERT INTO pipeline_minutes (minute, batches, received, applied, duplicates, quarantined, lag_max_ms, fresh_1s, fresh_5s, fresh_30s, fresh_slow)
      VALUES (${f.minute}, 1, ${f.received}, ${f.applied}, ${f.duplicates}, ${f.quarantined}, ${f.lagMaxMs}, ${f.fresh[0]}, ${f.fresh[1]}, ${f.fresh[2]}, ${f.fresh[3]})
      ON CONFLICT (minute) DO UPDATE SET batches = batches + 1, received = received + excluded.received, applied = applied + excluded.applied, duplicates = duplicates + excluded.duplicates,
        quarantined = quarantined + excluded.quarantined, lag_max_ms = max(lag_max_ms, excluded.lag_max_ms), fresh_1s = fresh_1s + excluded.fresh_1s, fresh_5s = fresh_5s + excluded.fresh_5s,
        fresh_30s = fresh_30s + excluded.fresh_30s, fresh_slow = fresh_slow + excluded.fresh_slow`);
    return 1;
  } catch (err) {
    log("warn", "pipeline.minute_not_recorded", { minute: f.minute, ...describeError(err) });
    return 0;
  }
}
