/**
 * Stage 5 of a commit: the plan's rows written to D1. Within one database the writes commit
 * together or not at all; across the shards they run in phases (db/sharded-writes.ts): new
 * identifiers claimed, merged-away customers moved into the merges log, profiles written (each
 * with its watermark, memberships and product views, in its own shard), identifiers of merged
 * customers re-pointed, and the control database's rows last. A concurrent writer makes a batch
 * abort (version trigger, unique keys) and the whole commit starts over (retries.ts); what an
 * earlier phase committed, the next attempt finds and finishes (resolve.ts).
 */
import { readConfig } from "../model/config";
import { ShardedWrites } from "../db/sharded-writes";
import { shards } from "../db/shards";
import { suppressionHash } from "../kernel/suppression-hash";
import { refusalStatements, unattributableStatements } from "../identity/merge-store";
import { claimStatements, type IdentityClaim, profileStatements } from "../profiles/store";
import { memberStatements, segmentCountStatements } from "../segments/members-store";
import { engagementCountStatements, sendTimeHourStatements, surveyAnswerStatements } from "../profiles/engagement-store";
import { scoreStatsStatement } from "../models/scores";
import { productActivity } from "../catalog/activity";
import { productStatsStatement, productViewStatement, unknownProductsStatement } from "../catalog/store";
import { addMergeStatements, finishMerge } from "./merge-statements";
import type { CommitPlan } from "./plan";
import type { Resolved } from "./resolve";

/** The suppression hash new identities are written with (under the newest secret), if there is a secret. */
export function keyHashOf(env: Env): (key: string) => string | null {
  const [secret] = readConfig(env).suppressionSecrets;
  return secret === undefined ? () => null : (key) => suppressionHash(secret, key);
}

/**
 * Writes the plan; returns the D1 rows written. `onPartial` is told when a phase failed after
 * another committed (the retry then sends every customer to its session object again).
 */
export async function commitPlan(
  env: Env,
  plan: CommitPlan,
  resolved: Pick<Resolved, "refusals" | "unattributable"> & Partial<Pick<Resolved, "takeovers" | "repoints">>,
  now: number,
  onPartial?: () => void,
  /** Filled with the batches and rows written per database binding. */
  written?: Record<string, { batches: number; rows: number }>,
): Promise<number> {
  const map = shards(env);
  const control = env.DB;
  const writes = new ShardedWrites(now);
  const takeovers = resolved.takeovers ?? new Map<string, string>();
  const claims = plan.writes.flatMap((w) => w.newIdentities.map((identity): IdentityClaim => ({ identity, customerId: w.customerId, ...(takeovers.has(identity.key) ? { takesOverFrom: takeovers.get(identity.key)! } : {}) })));
  const keyHash = keyHashOf(env);
  for (const [d1, some] of map.group(claims, (c) => c.identity.key)) writes.add("claim", d1, claimStatements(d1, some, now, keyHash));
  addMergeStatements(writes, map, control, plan.merges);
  for (const [d1, some] of map.group(plan.writes, (w) => w.customerId)) {
    const ids = new Set(some.map((w) => w.customerId));
    const views = plan.views.filter((v) => ids.has(v.customerId));
    // The engagement counts commit with the profiles whose events they come from: exactly once.
    const engagement = plan.engagement.filter((e) => ids.has(e.customerId)).flatMap((e) => e.counts);
    writes.add("write", d1, [...profileStatements(d1, some), ...memberStatements(d1, plan.membershipChanges.filter((c) => ids.has(c.customerId))), productViewStatement(d1, views), ...engagementCountStatements(d1, engagement), ...sendTimeHourStatements(d1, plan.sendHours.filter((h) => ids.has(h.customerId)).map((h) => h.hours)), ...surveyAnswerStatements(d1, plan.surveyAnswers.filter((a) => ids.has(a.customerId)).flatMap((a) => a.deltas))]);
  }
  for (const { mergedId, keys, survivorId } of resolved.repoints ?? []) finishMerge(writes, map, mergedId, keys, survivorId);
  const activity = productActivity(plan.newEvents);
  writes.add("control", control, [
    ...segmentCountStatements(control, plan.membershipChanges),
    ...refusalStatements(control, resolved.refusals, now),
    ...unattributableStatements(control, resolved.unattributable, now),
    scoreStatsStatement(control, plan.scores),
    productStatsStatement(control, activity.counts),
    unknownProductsStatement(control, activity.seen, now),
  ]);
  try {
    return await writes.run(onPartial);
  } finally {
    if (written) for (const [d1, w] of writes.written) written[map.bindingOf(d1)] = w;
  }
}
