/**
 * The pipeline over time, for the console's charts: the per-minute rows the consumer writes
 * (pipeline/minutes.ts) summed into buckets, and dead letters counted by the minute they landed.
 * One grouped range read each, on primary keys or indexed columns; empty buckets read as zero.
 */
import { gte, sql } from "drizzle-orm";
import { database } from "../db/client";
import { deadLetters, pipelineMinutes } from "../db/schema";
import { percentileOf } from "../model/freshness";

/** The console's ranges: how far back, and how many minutes make one point. */
export const RANGES = {
  hour: { minutes: 60, step: 1 },
  day: { minutes: 1_440, step: 15 },
  week: { minutes: 10_080, step: 120 },
} as const;
export type RangeName = keyof typeof RANGES;

export interface PipelineSeries {
  /** Each bucket's start, in seconds since 1970 (what uPlot's time axis takes). */
  times: number[];
  /** Events that reached ingest: accepted plus quarantined. */
  received: number[];
  /** Events ingest accepted and the consumer took off the queue. */
  accepted: number[];
  applied: number[];
  duplicates: number[];
  quarantined: number[];
  deadLettered: number[];
  /** Longest wait in the queue of any pack in the bucket (ms); null without batches. */
  lagMaxMs: (number | null)[];
  /** Freshness quantiles (ingest to profile written, upper bounds of 1 s / 5 s / 30 s / 60 s buckets); null without events. */
  freshP50Ms: (number | null)[];
  freshP95Ms: (number | null)[];
  totals: { received: number; accepted: number; applied: number; duplicates: number; quarantined: number; deadLettered: number; freshP50Ms: number | null; freshP95Ms: number | null; lagMaxMs: number | null };
}

export async function pipelineSeries(d1: D1Database, range: RangeName, now = Date.now()): Promise<PipelineSeries> {
  const { minutes, step } = RANGES[range];
  const last = Math.floor(now / 60_000 / step);
  const first = last - Math.ceil(minutes / step) + 1;
  const db = database(d1);
  // Cast: D1 binds numbers as reals, and a bucket number must be an integer.
  const bucket = sql<number>`cast(${pipelineMinutes.minute} / ${step} as integer)`;
  const [rows, dead] = await Promise.all([
    db
      .select({
        b: bucket,
        received: sql<number>`sum(${pipelineMinutes.received})`,
        applied: sql<number>`sum(${pipelineMinutes.applied})`,
        duplicates: sql<number>`sum(${pipelineMinutes.duplicates})`,
        quarantined: sql<number>`sum(${pipelineMinutes.quarantined})`,
        lag: sql<number>`max(${pipelineMinutes.lagMaxMs})`,
        batches: sql<number>`sum(${pipelineMinutes.batches})`,
        f1: sql<number>`sum(${pipelineMinutes.fresh1s})`,
        f5: sql<number>`sum(${pipelineMinutes.fresh5s})`,
        f30: sql<number>`sum(${pipelineMinutes.fresh30s})`,
        fSlow: sql<number>`sum(${pipelineMinutes.freshSlow})`,
      })
      .from(pipelineMinutes)
      .where(gte(pipelineMinutes.minute, first * step))
      .groupBy(bucket)
      .all(),
    db
      .select({ b: sql<number>`cast(${deadLetters.receivedAt} / ${step * 60_000} as integer)`, n: sql<number>`count(*)` })
      .from(deadLetters)
      .where(gte(deadLetters.receivedAt, first * step * 60_000))
      .groupBy(sql`1`)
      .all(),
  ]);
  const at = new Map(rows.map((r) => [r.b, r]));
  const deadAt = new Map(dead.map((r) => [r.b, r.n]));
  const s: PipelineSeries = { times: [], received: [], accepted: [], applied: [], duplicates: [], quarantined: [], deadLettered: [], lagMaxMs: [], freshP50Ms: [], freshP95Ms: [], totals: { received: 0, accepted: 0, applied: 0, duplicates: 0, quarantined: 0, deadLettered: 0, freshP50Ms: null, freshP95Ms: null, lagMaxMs: null } };
  const fresh = [0, 0, 0, 0];
  for (let b = first; b <= last; b++) {
    const r = at.get(b);
    const buckets = r ? [r.f1, r.f5, r.f30, r.fSlow] : [0, 0, 0, 0];
    const events = buckets.reduce((x, y) => x + y, 0);
    s.times.push(b * step * 60);
    // The consumer counts what it took off the queue as received; refused messages travel in the packs too.
    s.received.push((r?.received ?? 0) + (r?.quarantined ?? 0));
    s.accepted.push(r?.received ?? 0);
    s.applied.push(r?.applied ?? 0);
    s.duplicates.push(r?.duplicates ?? 0);
    s.quarantined.push(r?.quarantined ?? 0);
    s.deadLettered.push(deadAt.get(b) ?? 0);
    s.lagMaxMs.push(r && r.batches > 0 ? r.lag : null);
    s.freshP50Ms.push(events > 0 ? percentileOf(buckets, 0.5) : null);
    s.freshP95Ms.push(events > 0 ? percentileOf(buckets, 0.95) : null);
    for (const [i, n] of buckets.entries()) fresh[i]! += n;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const events = sum(fresh);
  const lags = s.lagMaxMs.filter((x): x is number => x !== null);
  s.totals = {
    received: sum(s.received),
    accepted: sum(s.accepted),
    applied: sum(s.applied),
    duplicates: sum(s.duplicates),
    quarantined: sum(s.quarantined),
    deadLettered: sum(s.deadLettered),
    freshP50Ms: events > 0 ? percentileOf(fresh, 0.5) : null,
    freshP95Ms: events > 0 ? percentileOf(fresh, 0.95) : null,
    lagMaxMs: lags.length > 0 ? Math.max(...lags) : null,
  };
  return s;
}
