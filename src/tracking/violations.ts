/**
 * Recorded violations: written by the pipeline (one row per event, idempotent), listed and counted
 * for admins. The counts are GROUP BYs over at most the retention window (30 days, like the
 * quarantine): an admin report, not a hot path.
 */
import { and, count, desc, eq, gte, max, type SQL, sql } from "drizzle-orm";
import { database } from "../db/client";
import { trackingViolations as tv } from "../db/schema";
import type { Statement } from "../db/statements";
import type { Violation, ViolationAction, ViolationRecord } from "../model/events";

export function violationStatements(d1: D1Database, records: readonly ViolationRecord[]): Statement[] {
  const db = database(d1);
  return records.map((r) =>
    db
      .insert(tv)
      .values({ sourceId: r.sourceId, messageId: r.messageId, receivedAt: Date.parse(r.receivedAt), planId: r.planId, planVersion: r.planVersion, eventName: r.eventName, action: r.action, unplanned: r.unplanned, violations: JSON.stringify(r.violations) })
      .onConflictDoNothing({ target: [tv.sourceId, tv.messageId] }),
  );
}

export interface ViolationFilter {
  source?: string;
  event?: string;
  plan?: string;
  /** Milliseconds: only violations received at or after. */
  since?: number;
}

function where(f: ViolationFilter): SQL | undefined {
  return and(
    f.source === undefined ? undefined : eq(tv.sourceId, f.source),
    f.event === undefined ? undefined : eq(tv.eventName, f.event),
    f.plan === undefined ? undefined : eq(tv.planId, f.plan),
    f.since === undefined ? undefined : gte(tv.receivedAt, f.since),
  );
}

/** A recorded violation as listed: what the pipeline recorded. */
export type ListedViolation = ViolationRecord;

/** Newest first. The cursor is the last row's `receivedAt|sourceId|messageId`. */
export async function listViolations(d1: D1Database, filter: ViolationFilter, limit: number, cursor?: string): Promise<{ violations: ListedViolation[]; next?: string }> {
  let after: SQL | undefined;
  if (cursor) {
    // A messageId may hold "|": only the first two separate.
    const [at, source, ...rest] = cursor.split("|");
    after = sql`(${tv.receivedAt}, ${tv.sourceId}, ${tv.messageId}) < (${Number(at)}, ${source}, ${rest.join("|")})`;
  }
  const rows = await database(d1)
    .select()
    .from(tv)
    .where(and(where(filter), after))
    .orderBy(desc(tv.receivedAt), desc(tv.sourceId), desc(tv.messageId))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    violations: page.map((r) => ({
      sourceId: r.sourceId,
      messageId: r.messageId,
      receivedAt: new Date(r.receivedAt).toISOString(),
      planId: r.planId,
      planVersion: r.planVersion,
      eventName: r.eventName,
      action: r.action as ViolationAction,
      unplanned: r.unplanned,
      violations: JSON.parse(r.violations) as Violation[],
    })),
    ...(rows.length > limit && last ? { next: `${last.receivedAt}|${last.sourceId}|${last.messageId}` } : {}),
  };
}

export interface EventViolationCount {
  sourceId: string;
  eventName: string;
  events: number;
  byAction: Partial<Record<ViolationAction, number>>;
  lastAt: string;
  /** The most frequent paths and rules, most frequent first (ten at most). */
  rules: { path: string; rule: string; count: number }[];
}

/** Violating events counted per source and event name, most first. */
export async function countViolations(d1: D1Database, filter: ViolationFilter): Promise<EventViolationCount[]> {
  const db = database(d1);
  const filtered = where(filter);
  const [byAction, byRule] = await Promise.all([
    db
      .select({ sourceId: tv.sourceId, eventName: tv.eventName, action: tv.action, n: count(), lastAt: max(tv.receivedAt) })
      .from(tv)
      .where(filtered)
      .groupBy(tv.sourceId, tv.eventName, tv.action)
      .all(),
    // Each violation of each row: a join with json_each, which the query builder does not write.
    db.all<{ sourceId: string; eventName: string; path: string; rule: string; n: number }>(sql`
      SELECT ${tv.sourceId} AS sourceId, ${tv.eventName} AS eventName, json_extract(j.value, '$.path') AS path, json_extract(j.value, '$.rule') AS rule, count(*) AS n
      FROM ${tv}, json_each(${tv.violations}) AS j ${filtered ? sql`WHERE ${filtered}` : sql``}
      GROUP BY sourceId, eventName, path, rule ORDER BY n DESC`),
  ]);
  const counts = new Map<string, EventViolationCount>();
  for (const r of byAction) {
    const key = `${r.sourceId}\n${r.eventName}`;
    const c = counts.get(key) ?? { sourceId: r.sourceId, eventName: r.eventName, events: 0, byAction: {}, lastAt: new Date(0).toISOString(), rules: [] };
    c.events += r.n;
    c.byAction[r.action as ViolationAction] = r.n;
    if ((r.lastAt ?? 0) > Date.parse(c.lastAt)) c.lastAt = new Date(r.lastAt ?? 0).toISOString();
    counts.set(key, c);
  }
  for (const r of byRule) {
    const c = counts.get(`${r.sourceId}\n${r.eventName}`);
    if (c && c.rules.length < 10) c.rules.push({ path: r.path, rule: r.rule, count: r.n });
  }
  return [...counts.values()].sort((a, b) => b.events - a.events || a.eventName.localeCompare(b.eventName));
}
