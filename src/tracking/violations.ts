/**
 * Recorded violations: written by the pipeline (one row per event, idempotent), listed and counted
 * for admins. The counts are GROUP BYs over at most the retention window (30 days, like the
 * quarantine): an admin report, not a hot path.
 */
import type { Violation, ViolationAction, ViolationRecord } from "../model/events";

export function violationStatements(d1: D1Database, records: readonly ViolationRecord[]): D1PreparedStatement[] {
  return records.map((r) =>
    d1
      .prepare(
        `INSERT INTO tracking_violations (source_id, message_id, received_at, plan_id, plan_version, event_name, action, unplanned, violations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (source_id, message_id) DO NOTHING`,
      )
      .bind(r.sourceId, r.messageId, Date.parse(r.receivedAt), r.planId, r.planVersion, r.eventName, r.action, r.unplanned ? 1 : 0, JSON.stringify(r.violations)),
  );
}

export interface ViolationFilter {
  source?: string;
  event?: string;
  plan?: string;
  /** Milliseconds: only violations received at or after. */
  since?: number;
}

function where(f: ViolationFilter): { sql: string; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, v: unknown) => {
    args.push(v);
    clauses.push(clause.replace("?", `?${args.length}`));
  };
  if (f.source !== undefined) add("source_id = ?", f.source);
  if (f.event !== undefined) add("event_name = ?", f.event);
  if (f.plan !== undefined) add("plan_id = ?", f.plan);
  if (f.since !== undefined) add("received_at >= ?", f.since);
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "", args };
}

/** A recorded violation as listed: what the pipeline recorded. */
export type ListedViolation = ViolationRecord;

interface Row {
  source_id: string;
  message_id: string;
  received_at: number;
  plan_id: string;
  plan_version: number;
  event_name: string;
  action: ViolationAction;
  unplanned: number;
  violations: string;
}

/** Newest first. The cursor is the last row's `receivedAt|sourceId|messageId`. */
export async function listViolations(d1: D1Database, filter: ViolationFilter, limit: number, cursor?: string): Promise<{ violations: ListedViolation[]; next?: string }> {
  const w = where(filter);
  let sql = w.sql;
  const args = [...w.args];
  if (cursor) {
    // A messageId may hold "|": only the first two separate.
    const [at, source, ...rest] = cursor.split("|");
    const message = rest.join("|");
    args.push(Number(at), source, message);
    const n = args.length;
    sql += `${sql ? " AND" : "WHERE"} (received_at, source_id, message_id) < (?${n - 2}, ?${n - 1}, ?${n})`;
  }
  args.push(limit + 1);
  const rows = (await d1.prepare(`SELECT * FROM tracking_violations ${sql} ORDER BY received_at DESC, source_id DESC, message_id DESC LIMIT ?${args.length}`).bind(...args).all<Row>()).results;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    violations: page.map((r) => ({
      sourceId: r.source_id,
      messageId: r.message_id,
      receivedAt: new Date(r.received_at).toISOString(),
      planId: r.plan_id,
      planVersion: r.plan_version,
      eventName: r.event_name,
      action: r.action,
      unplanned: r.unplanned === 1,
      violations: JSON.parse(r.violations) as Violation[],
    })),
    ...(rows.length > limit && last ? { next: `${last.received_at}|${last.source_id}|${last.message_id}` } : {}),
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
  const w = where(filter);
  const [byAction, byRule] = await Promise.all([
    d1
      .prepare(`SELECT source_id, event_name, action, count(*) AS n, max(received_at) AS last_at FROM tracking_violations ${w.sql} GROUP BY source_id, event_name, action`)
      .bind(...w.args)
      .all<{ source_id: string; event_name: string; action: ViolationAction; n: number; last_at: number }>(),
    d1
      .prepare(
        `SELECT source_id, event_name, json_extract(j.value, '$.path') AS path, json_extract(j.value, '$.rule') AS rule, count(*) AS n
         FROM tracking_violations, json_each(tracking_violations.violations) AS j ${w.sql} GROUP BY source_id, event_name, path, rule ORDER BY n DESC`,
      )
      .bind(...w.args)
      .all<{ source_id: string; event_name: string; path: string; rule: string; n: number }>(),
  ]);
  const counts = new Map<string, EventViolationCount>();
  for (const r of byAction.results) {
    const key = `${r.source_id}\n${r.event_name}`;
    const c = counts.get(key) ?? { sourceId: r.source_id, eventName: r.event_name, events: 0, byAction: {}, lastAt: new Date(0).toISOString(), rules: [] };
    c.events += r.n;
    c.byAction[r.action] = r.n;
    if (r.last_at > Date.parse(c.lastAt)) c.lastAt = new Date(r.last_at).toISOString();
    counts.set(key, c);
  }
  for (const r of byRule.results) {
    const c = counts.get(`${r.source_id}\n${r.event_name}`);
    if (c && c.rules.length < 10) c.rules.push({ path: r.path, rule: r.rule, count: r.n });
  }
  return [...counts.values()].sort((a, b) => b.events - a.events || a.eventName.localeCompare(b.eventName));
}
