/**
 * What a rule's metric reads now, from the stores that already hold it (the control database):
 * one indexed range read per rule and evaluation. Per destination host for delivery failures: a
 * rule fires for each host over its threshold (each its own alert).
 */
import { and, gte, isNull, sql } from "drizzle-orm";
import { database } from "../db/client";
import { deadLetters, deliveries, quarantine } from "../db/schema";
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
