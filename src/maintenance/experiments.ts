/**
 * Acting on an experiment's results (docs/experiments.md): a running experiment whose exposures
 * split against its weights is paused (when `pauseOnSampleRatioMismatch`), and one with a winner
 * ships it (when `autoShip`). Done whenever results are read and every ten minutes by cron, so a
 * decision does not wait for someone to look. Each action is a guarded save (If-Match on the
 * version read): two evaluations at once make one change.
 */
import { publishManifest } from "../content/manifest";
import type { ExperimentDefinition } from "../experiments/definition";
import { experimentResults, type ExperimentResults } from "../experiments/results";
import { listExperiments, saveExperiment, type StoredExperiment } from "../experiments/store";
import { configureTally, tallyStub } from "../experiments/tally";
import { VersionMismatch } from "../db/versions";
import { log } from "../kernel/log";

/** The cron that evaluates running experiments (wrangler.toml `crons`). */
export const EXPERIMENTS_CRON = "*/10 * * * *";

export interface Action {
  what: "paused_for_sample_ratio_mismatch" | "shipped_winner";
  definition: ExperimentDefinition;
}

export async function evaluateExperiment(env: Env, e: StoredExperiment): Promise<{ results: ExperimentResults; action: Action | null }> {
  const tally = tallyStub(env, e.id);
  const [totals, weights] = await Promise.all([tally.totals(), tally.weights()]);
  const results = experimentResults(e.definition, totals, weights?.weights ?? null);
  const d = e.definition;
  if (d.status !== "running" || d.winner !== undefined) return { results, action: null };
  let action: Action | null = null;
  if (results.decision.state === "srm" && d.pauseOnSampleRatioMismatch) action = { what: "paused_for_sample_ratio_mismatch", definition: { ...d, status: "paused" } };
  else if (results.decision.state === "winner" && d.autoShip && results.decision.winner) action = { what: "shipped_winner", definition: { ...d, winner: results.decision.winner } };
  if (!action) return { results, action: null };
  try {
    await saveExperiment(env.DB, e.id, action.definition, e.version);
  } catch (err) {
    // Someone saved in between: their version stands, this evaluation changes nothing.
    if (err instanceof VersionMismatch) return { results, action: null };
    throw err;
  }
  await configureTally(env, e.id, action.definition);
  await publishManifest(env);
  log("info", "experiments.decided", { experiment: e.id, action: action.what, rule: results.decision.rule });
  return { results, action };
}

/** Every running experiment, evaluated (the cron). */
export async function evaluateRunningExperiments(env: Env): Promise<number> {
  const running = (await listExperiments(env.DB)).filter((e) => e.definition.status === "running" && e.definition.winner === undefined);
  let acted = 0;
  for (const e of running) if ((await evaluateExperiment(env, e)).action) acted++;
  return acted;
}
