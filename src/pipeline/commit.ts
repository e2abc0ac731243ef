/**
 * Stage 5 of a commit: the plan's rows written to D1 in one batch, so the profile changes, their
 * watermarks (what each profile has applied of its object's events), merges, memberships and
 * counters commit together or not at all. A concurrent writer makes the batch abort (version trigger, unique keys) and the whole
 * commit starts over (retries.ts).
 */
import { readConfig } from "../model/config";
import { rowsWritten, runBatch } from "../db/statements";
import { suppressionHash } from "../kernel/suppression-hash";
import { eventsMovedStatement, refusalStatements, unattributableStatements } from "../identity/merge-store";
import { commitStatements } from "../profiles/store";
import { membershipStatements } from "../segments/members-store";
import { scoreStatsStatement } from "../models/scores";
import { productActivity } from "../catalog/activity";
import { productStatsStatement, productViewStatement, unknownProductsStatement } from "../catalog/store";
import { mergeStatements } from "./merge-statements";
import type { CommitPlan } from "./plan";
import type { Resolved } from "./resolve";

/** The suppression hash new identities are written with (under the newest secret), if there is a secret. */
export function keyHashOf(env: Env): (key: string) => string | null {
  const [secret] = readConfig(env).suppressionSecrets;
  return secret === undefined ? () => null : (key) => suppressionHash(secret, key);
}

/**
 * Writes the plan; returns the D1 rows written. `moved`: merged-away customers whose events the
 * survivors' objects took in during this batch (merges.events_moved_at).
 */
export async function commitPlan(env: Env, plan: CommitPlan, resolved: Pick<Resolved, "refusals" | "unattributable">, now: number, moved: readonly string[] = []): Promise<number> {
  const activity = productActivity(plan.newEvents);
  const statements = [
    ...mergeStatements(env.DB, plan.merges),
    ...commitStatements(env.DB, plan.writes, keyHashOf(env)),
    ...membershipStatements(env.DB, plan.membershipChanges),
    ...refusalStatements(env.DB, resolved.refusals, now),
    ...unattributableStatements(env.DB, resolved.unattributable, now),
    ...[eventsMovedStatement(env.DB, moved, now), scoreStatsStatement(env.DB, plan.scores), productViewStatement(env.DB, plan.views), productStatsStatement(env.DB, activity.counts), unknownProductsStatement(env.DB, activity.seen, now)].filter((s) => s !== null),
  ];
  return rowsWritten(await runBatch(env.DB, statements));
}
