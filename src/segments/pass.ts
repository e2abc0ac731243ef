/**
 * The evaluation pass: every profile's segments evaluated again, for what no event announces.
 * Someone leaves "active in the last 30 days" because a day passed; a changed rule applies to
 * everyone; a deleted segment is forgotten. Run daily just after midnight UTC (windows are whole
 * UTC days) when a rule depends on time, and after every change of a segment.
 *
 * This file starts runs and reads them; the pages run as jobs (jobs/segment-pass.ts): a chain of
 * them on the jobs queue, each a run of pages of profiles read by key order (for about
 * ten seconds) with only the columns rules look at. Most profiles do not change: only those whose memberships do (or that
 * lack an event count a rule needs) go through the pipeline's commit path (reevaluateCustomers),
 * which writes them at the version read and sends their entries and exits to triggers. Retried
 * pages are idempotent; the run's progress counts each page once.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import type { ShardMap } from "../db/shards";
import { segmentRuns } from "../db/schema";
import { newId } from "../kernel/crypto";
import type { ProfileState } from "../profiles/apply";
import type { Aggregates } from "../profiles/aggregates";
import type { ComputedState } from "../profiles/computed";
import { dependsOnTime, segmentsReferencedBy, type Segment } from "./definition";
import { segmentRules } from "./rules";
import { refreshRfmThresholds } from "../models/rfm";
import type { PassJob } from "../model/jobs";

/** The cron of the daily pass (wrangler.toml); the other cron runs maintenance. */
export const SEGMENT_PASS_CRON = "7 0 * * *";

export async function startPass(env: Env, reason: string, now = Date.now()): Promise<string> {
  const runId = newId("run", now);
  await database(env.DB).insert(segmentRuns).values({ id: runId, reason, startedAt: now });
  await env.JOBS.send({ v: 1, kind: "segment_pass", runId, after: "" } satisfies PassJob);
  return runId;
}

/** Does any enabled segment change with time alone (itself or through a segment it names)? */
export function needsDailyPass(segments: readonly Segment[]): boolean {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const timed = (s: Segment, seen: Set<string>): boolean =>
    dependsOnTime(s.definition.rule) || segmentsReferencedBy(s.definition.rule).some((id) => !seen.has(id) && byId.has(id) && timed(byId.get(id)!, new Set([...seen, id])));
  return segments.some((s) => s.definition.enabled && timed(s, new Set([s.id])));
}

/** The daily cron: RFM cuts, then a pass when some rule depends on time. */
export async function dailyPass(env: Env): Promise<string | null> {
  // The population's RFM cuts first: the pass scores everyone against them.
  await refreshRfmThresholds(env);
  const rules = await segmentRules(env);
  return needsDailyPass(rules.segments) ? startPass(env, "daily") : null;
}

export interface LightRow {
  id: string;
  traits: string;
  computed: string | null;
  aggregates: string;
  segments: string;
  event_count: number;
  first_seen_at: number | null;
  last_seen_at: number | null;
}

/** What rules read of a profile, from the few columns a pass selects. */
export function stateOfRow(r: LightRow): ProfileState {
  return {
    traits: JSON.parse(r.traits) as Record<string, unknown>,
    traitTimes: {},
    traitIssues: {},
    consent: null,
    // Rules read no counters.
    counters: { types: {}, events: {} },
    ...(r.computed ? { computed: JSON.parse(r.computed) as ComputedState } : {}),
    aggregates: JSON.parse(r.aggregates) as Aggregates,
    eventCount: r.event_count,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
  };
}

/** Customers after `after` in id order, across the shards. */
export async function lightRows(map: ShardMap, after: string, limit: number): Promise<LightRow[]> {
  return map.page(limit, (d1) => database(d1).all<LightRow>(sql`SELECT id, traits, computed, aggregates, segments, event_count, first_seen_at, last_seen_at FROM customers WHERE id > ${after} ORDER BY id LIMIT ${limit}`), (r) => r.id);
}

/** A pass as listed; `supersededBy`: the later pass that made this one stop (wait for that one). */
const RUN_COLUMNS = { id: segmentRuns.id, reason: segmentRuns.reason, startedAt: segmentRuns.startedAt, finishedAt: segmentRuns.finishedAt, profiles: segmentRuns.profiles, changed: segmentRuns.changed, supersededBy: segmentRuns.supersededBy };

export async function getRun(d1: D1Database, id: string) {
  return (await database(d1).select(RUN_COLUMNS).from(segmentRuns).where(eq(segmentRuns.id, id)).get()) ?? null;
}

export async function listRuns(d1: D1Database, limit = 20) {
  return database(d1).select(RUN_COLUMNS).from(segmentRuns).orderBy(desc(segmentRuns.startedAt)).limit(limit).all();
}

/** The newest pass started after this one (by start time, then id), if any. */
export async function newerRun(d1: D1Database, runId: string): Promise<string | null> {
  const row = await database(d1).get<{ id: string }>(
    sql`SELECT r.id FROM segment_runs AS r, segment_runs AS me WHERE me.id = ${runId} AND (r.started_at > me.started_at OR (r.started_at = me.started_at AND r.id > me.id)) ORDER BY r.started_at DESC LIMIT 1`,
  );
  return row?.id ?? null;
}

/** Ends a pass that a newer one replaces. */
export async function supersedeRun(d1: D1Database, runId: string, by: string, now: number): Promise<void> {
  await database(d1).update(segmentRuns).set({ supersededBy: by, finishedAt: sql`coalesce(${segmentRuns.finishedAt}, ${now})` }).where(eq(segmentRuns.id, runId));
}

/**
 * A page's progress, counted once: the update applies only while the cursor is where the page
 * started (a retried page finds it moved and adds nothing).
 */
export async function recordProgress(d1: D1Database, runId: string, page: { from: string; to: string; profiles: number; changed: number; finished: boolean }, now: number): Promise<void> {
  await database(d1)
    .update(segmentRuns)
    .set({
      cursor: page.to,
      profiles: sql`${segmentRuns.profiles} + ${page.profiles}`,
      changed: sql`${segmentRuns.changed} + ${page.changed}`,
      ...(page.finished ? { finishedAt: now } : {}),
    })
    .where(and(eq(segmentRuns.id, runId), eq(segmentRuns.cursor, page.from)));
}

/**
 * Sizes recounted from the member rows of every shard (kept incrementally; this repairs any
 * drift, e.g. after a restore or a commit interrupted between its phases), written in `control`.
 */
export async function recountSizes(control: D1Database, map: ShardMap): Promise<void> {
  const counts = await map.everywhere((d1) => database(d1).all<{ id: string; n: number }>(sql`SELECT segment_id AS id, count(*) AS n FROM segment_members GROUP BY segment_id`));
  const sizes: Record<string, number> = {};
  for (const { id, n } of counts) sizes[id] = (sizes[id] ?? 0) + n;
  await database(control).run(sql`UPDATE segments SET size = coalesce(json_extract(${JSON.stringify(sizes)}, '$.' || json_quote(id)), 0) WHERE deleted_at IS NULL`);
}
