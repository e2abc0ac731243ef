/**
 * What a rule's metric reads now, from the stores that already hold it (the control database):
 * one indexed range read per rule and evaluation. Per destination host for delivery failures: a
 * rule fires for each host over its threshold (each its own alert).
 */
import { and, eq, gte, isNull, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { deadLetters, deliveries, pipelineMinutes, quarantine, segments, segmentStats } from "../db/schema";
import { percentileOf } from "../model/freshness";
import type { AlertRuleDefinition } from "./definition";

/** One thing measured: `subject` names what it is about ("" for the whole system, or a host). */
export interface Measurement {
  subject: string;
  value: number;
  /** The figures behind it, for the notification's details. */
  details: Record<string, number | string>;
}

export async function measure(d1: D1Database, rule: AlertRuleDefinition, now: number): Promise<Measurement[]> {
  const db = database(d1);
  const since = now - rule.windowMinutes * 60_000;
  switch (rule.metric) {
    case "dead_letters": {
      const row = await db.select({ n: sql<number>`count(*)` }).from(deadLetters).where(and(gte(deadLetters.receivedAt, since), isNull(deadLetters.replayedAt))).get();
      return [{ subject: "", value: row?.n ?? 0, details: { deadLetters: row?.n ?? 0, windowMinutes: rule.windowMinutes } }];
    }
    case "quarantined": {
      const row = await db.select({ n: sql<number>`count(*)` }).from(quarantine).where(gte(quarantine.receivedAt, since)).get();
      return [{ subject: "", value: row?.n ?? 0, details: { quarantined: row?.n ?? 0, windowMinutes: rule.windowMinutes } }];
    }
    case "consumer_lag_ms": {
      const row = await db.select({ lag: sql<number | null>`max(${pipelineMinutes.lagMaxMs})`, batches: sql<number>`coalesce(sum(${pipelineMinutes.batches}), 0)` }).from(pipelineMinutes).where(gte(pipelineMinutes.minute, minuteOf(since))).get();
      return [{ subject: "", value: row?.lag ?? 0, details: { lagMaxMs: row?.lag ?? 0, batches: row?.batches ?? 0, windowMinutes: rule.windowMinutes } }];
    }
    case "freshness_p95_ms": {
      const row = await db
        .select({ a: sql<number>`coalesce(sum(${pipelineMinutes.fresh1s}), 0)`, b: sql<number>`coalesce(sum(${pipelineMinutes.fresh5s}), 0)`, c: sql<number>`coalesce(sum(${pipelineMinutes.fresh30s}), 0)`, d: sql<number>`coalesce(sum(${pipelineMinutes.freshSlow}), 0)` })
        .from(pipelineMinutes)
        .where(gte(pipelineMinutes.minute, minuteOf(since)))
        .get();
      const buckets = [row?.a ?? 0, row?.b ?? 0, row?.c ?? 0, row?.d ?? 0];
      const events = buckets.reduce((x, y) => x + y, 0);
      if (events < rule.minVolume) return [];
      return [{ subject: "", value: percentileOf(buckets, 0.95), details: { events, within1s: buckets[0]!, within5s: buckets[1]!, within30s: buckets[2]!, later: buckets[3]!, windowMinutes: rule.windowMinutes } }];
    }
    case "volume_ratio": {
      const windows = [0, 1, 2, 3, 4, 5, 6, 7].map((d) => [minuteOf(since - d * DAY_MS), minuteOf(now - d * DAY_MS)] as const);
      const counts = await Promise.all(
        windows.map(async ([from, to]) => (await db.select({ n: sql<number>`coalesce(sum(${pipelineMinutes.received}), 0)` }).from(pipelineMinutes).where(and(gte(pipelineMinutes.minute, from), lt(pipelineMinutes.minute, to))).get())?.n ?? 0),
      );
      const [current, ...before] = counts as [number, ...number[]];
      const usual = before.reduce((a, b) => a + b, 0) / before.length;
      if (usual < rule.minVolume) return [];
      return [{ subject: "", value: current / usual, details: { received: current, usual: Math.round(usual), windowMinutes: rule.windowMinutes } }];
    }
    case "segment_size_change": {
      // Daily entries and exits (segment_stats): the window is widened to whole UTC days, and the
      // size before it is today's size minus what moved since.
      const rows = await db
        .select({ id: segments.id, size: segments.size, entered: sql<number>`coalesce(sum(${segmentStats.entered}), 0)`, exited: sql<number>`coalesce(sum(${segmentStats.exited}), 0)` })
        .from(segments)
        .leftJoin(segmentStats, and(eq(segmentStats.segmentId, segments.id), gte(segmentStats.day, Math.floor(since / DAY_MS))))
        .where(and(isNull(segments.deletedAt), eq(segments.enabled, true)))
        .groupBy(segments.id)
        .all();
      return rows
        .map((r) => ({ ...r, before: r.size - (r.entered - r.exited) }))
        .filter((r) => r.before >= rule.minVolume)
        .map((r) => ({ subject: r.id, value: Math.abs(r.size - r.before) / Math.max(r.before, 1), details: { segment: r.id, sizeBefore: r.before, sizeNow: r.size, entered: r.entered, exited: r.exited, windowMinutes: rule.windowMinutes } }));
    }
    case "delivery_failure_rate": {
      const rows = await db
        .select({ url: deliveries.url, status: deliveries.status, n: sql<number>`count(*)` })
        .from(deliveries)
        .where(gte(deliveries.updatedAt, since))
        .groupBy(deliveries.url, deliveries.status)
        .all();
      const byHost = new Map<string, { attempted: number; failed: number }>();
      for (const r of rows) {
        if (r.status === "queued") continue;
        const host = hostOf(r.url);
        const h = byHost.get(host) ?? { attempted: 0, failed: 0 };
        h.attempted += r.n;
        if (r.status !== "delivered") h.failed += r.n;
        byHost.set(host, h);
      }
      return [...byHost]
        .filter(([, h]) => h.attempted >= rule.minVolume)
        .map(([host, h]) => ({ subject: host, value: h.failed / h.attempted, details: { destination: host, attempted: h.attempted, failed: h.failed, windowMinutes: rule.windowMinutes } }));
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 100);
  }
}

const DAY_MS = 86_400_000;
const minuteOf = (ms: number) => Math.floor(ms / 60_000);
