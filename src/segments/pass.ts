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
  await env.DB.prepare(`INSERT INTO segment_runs (id, reason, started_at) VALUES (?1, ?2, ?3)`).bind(runId, reason, now).run();
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

export async function lightRows(d1: D1Database, after: string, limit: number): Promise<LightRow[]> {
  const { results } = await d1
    .prepare(`SELECT id, traits, computed, aggregates, segments, event_count, first_seen_at, last_seen_at FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2`)
    .bind(after, limit)
    .all<LightRow>();
  return results;
}

interface RunRow {
  id: string;
  reason: string;
  startedAt: number;
  finishedAt: number | null;
  profiles: number;
  changed: number;
  /** The later pass that made this one stop: wait for that one. */
  supersededBy: string | null;
}
const RUN_COLUMNS = `id, reason, started_at AS startedAt, finished_at AS finishedAt, profiles, changed, superseded_by AS supersededBy`;

export async function getRun(d1: D1Database, id: string) {
  return d1.prepare(`SELECT ${RUN_COLUMNS} FROM segment_runs WHERE id = ?1`).bind(id).first<RunRow>();
}

export async function listRuns(d1: D1Database, limit = 20) {
  return (await d1.prepare(`SELECT ${RUN_COLUMNS} FROM segment_runs ORDER BY started_at DESC LIMIT ?1`).bind(limit).all<RunRow>()).results;
}
