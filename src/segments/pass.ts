/**
 * The evaluation pass: every profile's segments evaluated again, for what no event announces.
 * Someone leaves "active in the last 30 days" because a day passed; a changed rule applies to
 * everyone; a deleted segment is forgotten. Run daily just after midnight UTC (windows are whole
 * UTC days) when a rule depends on time, and after every change of a segment.
 *
 * A chain of jobs on the jobs queue, each a run of pages of profiles read by key order (for about
 * ten seconds) with only the columns rules look at. Most profiles do not change: only those whose memberships do (or that
 * lack an event count a rule needs) go through the pipeline's commit path (reevaluateCustomers),
 * which writes them at the version read and sends their entries and exits to triggers. Retried
 * pages are idempotent; the run's progress counts each page once.
 */
import { newId } from "../kernel/crypto";
import type { ProfileState } from "../profiles/apply";
import { log } from "../kernel/log";
import { reevaluateCustomers } from "../pipeline/process";
import type { Aggregates } from "./aggregates";
import { missingSpecs } from "./aggregates";
import type { ComputedState } from "./computed";
import { dependsOnTime, segmentsReferencedBy, type Segment } from "./definition";
import { membersOf } from "./evaluate";
import { nextMembership, sameMembership, type Membership } from "./membership";
import { segmentRules } from "./rules";
import { refreshRfmThresholds } from "./rfm";
import { scoresOf } from "../models/scores";
import type { PassJob } from "../model/jobs";

/** The cron of the daily pass (wrangler.toml); the other cron runs maintenance. */
export const SEGMENT_PASS_CRON = "7 0 * * *";

export const PASS_PAGE = 500;
/**
 * One job goes on to the next page while it has run less than this: a queue hop per page would
 * cost more than the page (the jobs queue waits up to a second to fill a batch), and a consumer
 * invocation has 30 s of CPU by default.
 */
const JOB_BUDGET_MS = 10_000;
/** Profiles that changed are committed this many at a time (one D1 transaction each). */
const COMMIT_GROUP = 100;

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

interface LightRow {
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

/** One page: evaluates it, commits the profiles that changed, queues the next page or ends the run. */
export async function runPassJob(env: Env, job: PassJob, now = Date.now()): Promise<{ profiles: number; changed: number }> {
  // A pass started later evaluates everything this one would, with newer rules: this one stops
  // (twenty segments saved in a row cost one pass over the profiles, not twenty).
  const newer = await env.DB.prepare(
    `SELECT r.id FROM segment_runs AS r, segment_runs AS me WHERE me.id = ?1 AND (r.started_at > me.started_at OR (r.started_at = me.started_at AND r.id > me.id)) ORDER BY r.started_at DESC LIMIT 1`,
  )
    .bind(job.runId)
    .first<{ id: string }>();
  if (newer) {
    await env.DB.prepare(`UPDATE segment_runs SET superseded_by = ?2, finished_at = coalesce(finished_at, ?3) WHERE id = ?1`).bind(job.runId, newer.id, now).run();
    log("info", "segments.pass_superseded", { runId: job.runId, by: newer.id });
    return { profiles: 0, changed: 0 };
  }
  const rules = await segmentRules(env);
  const started = Date.now();
  let after = job.after;
  let total = { profiles: 0, changed: 0 };
  for (;;) {
    const page = await evaluatePage(env, rules, job.runId, after, now);
    total = { profiles: total.profiles + page.profiles, changed: total.changed + page.changed };
    if (page.last === null) {
      // At the end, sizes are recounted from the member rows (they are kept incrementally; this
      // repairs any drift, e.g. after a restore).
      await env.DB.prepare(`UPDATE segments SET size = (SELECT count(*) FROM segment_members WHERE segment_id = segments.id) WHERE deleted_at IS NULL`).run();
      break;
    }
    after = page.last;
    if (Date.now() - started >= JOB_BUDGET_MS) {
      await env.JOBS.send({ v: 1, kind: "segment_pass", runId: job.runId, after } satisfies PassJob);
      break;
    }
  }
  log("info", "segments.pass_job", { runId: job.runId, ...total, more: total.profiles > 0 && after !== job.after });
  return total;
}

/**
 * One page: evaluates it, commits the profiles that changed, and records the progress (once: a
 * retried page finds the cursor moved and adds nothing). `last` is null at the end of the run.
 */
async function evaluatePage(env: Env, rules: Awaited<ReturnType<typeof segmentRules>>, runId: string, after: string, now: number): Promise<{ profiles: number; changed: number; last: string | null }> {
  const rows = await lightRows(env.DB, after, PASS_PAGE);
  const stale: string[] = [];
  for (const row of rows) {
    const state = stateOfRow(row);
    const previous = JSON.parse(row.segments) as Membership;
    const { membership } = nextMembership(previous, membersOf(rules.segments, state, now, scoresOf(rules, state, now)), rules.segments, now);
    const lacking = state.computed === undefined || (state.eventCount > 0 && missingSpecs(state.aggregates, rules.specs).length > 0);
    if (lacking || !sameMembership(previous, membership)) stale.push(row.id);
  }
  let changed = 0;
  for (let i = 0; i < stale.length; i += COMMIT_GROUP) changed += (await reevaluateCustomers(env, stale.slice(i, i + COMMIT_GROUP), { now })).customersChanged;
  const more = rows.length === PASS_PAGE;
  const last = rows[rows.length - 1]?.id ?? after;
  await env.DB.prepare(
    `UPDATE segment_runs SET cursor = ?3, profiles = profiles + ?4, changed = changed + ?5, finished_at = CASE WHEN ?6 THEN ?7 ELSE finished_at END WHERE id = ?1 AND cursor = ?2`,
  )
    .bind(runId, after, last, rows.length, changed, more ? 0 : 1, now)
    .run();
  return { profiles: rows.length, changed, last: more ? last : null };
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
