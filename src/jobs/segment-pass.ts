/**
 * The segment evaluation pass, one page of profiles per step, on the jobs queue: every profile's
 * segments again (after a rule changed, and daily when a rule depends on time). Profiles whose
 * membership or computed traits would change go through the pipeline's reevaluate(), so a pass
 * writes exactly what the consumer would. Runs and their progress: segments/pass.ts.
 */
import { shards } from "../db/shards";
import { log } from "../kernel/log";
import type { PassJob } from "../model/jobs";
import { scoresOf } from "../models/scores";
import { reevaluateCustomers } from "../pipeline/process";
import { missingSpecs } from "../profiles/aggregates";
import { membersOf } from "../segments/evaluate";
import type { Membership } from "../model/membership";
import { nextMembership, sameMembership } from "../segments/membership";
import { lightRows, newerRun, recordProgress, recountSizes, stateOfRow, supersedeRun } from "../segments/pass";
import { segmentRules } from "../segments/rules";

export const PASS_PAGE = 500;
/**
 * One job goes on to the next page while it has run less than this: a queue hop per page would
 * cost more than the page (the jobs queue waits up to a second to fill a batch), and a consumer
 * invocation has 30 s of CPU by default.
 */
const JOB_BUDGET_MS = 10_000;
/** Profiles that changed are committed this many at a time (one D1 transaction each). */
const COMMIT_GROUP = 100;

/** One page: evaluates it, commits the profiles that changed, queues the next page or ends the run. */
export async function runPassJob(env: Env, job: PassJob, now = Date.now()): Promise<{ profiles: number; changed: number }> {
  // A pass started later evaluates everything this one would, with newer rules: this one stops
  // (twenty segments saved in a row cost one pass over the profiles, not twenty).
  const newer = await newerRun(env.DB, job.runId);
  if (newer) {
    await supersedeRun(env.DB, job.runId, newer, now);
    log("info", "segments.pass_superseded", { runId: job.runId, by: newer });
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
      await recountSizes(env.DB, shards(env));
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
  const rows = await lightRows(shards(env), after, PASS_PAGE);
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
  await recordProgress(env.DB, runId, { from: after, to: last, profiles: rows.length, changed, finished: !more }, now);
  return { profiles: rows.length, changed, last: more ? last : null };
}
