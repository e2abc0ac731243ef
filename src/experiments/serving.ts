/**
 * What an experiment does to a render (docs/experiments.md): which variant a customer sees and
 * whether seeing it counts as an exposure. Pure.
 *
 * - running: the customer's assigned variant (or the holdout); human views count;
 * - paused (by hand, or by a sample-ratio mismatch): everyone sees the control; nothing counts;
 * - shipped (a `winner`): everyone sees the winner; nothing counts;
 * - draft or stopped: the experiment is not in the manifest; the block renders as itself.
 */
import { assign, HOLDOUT } from "./assignment";
import type { ExperimentDefinition } from "./definition";

/** An experiment as the block manifest carries it (keyed by the block it splits). */
export interface ServedExperiment {
  id: string;
  version: number;
  definition: ExperimentDefinition;
  /** A bandit's current split (its tally's, read with the manifest); the definition's weights until there is one. */
  weights?: Record<string, number>;
}

export interface Choice {
  experiment: string;
  /** The variant key, or "holdout". */
  variant: string;
  holdout: boolean;
  /** The block whose templates render this variant. */
  block: string;
  slots: Record<string, string>;
  /** Whether a person seeing this render is an exposure (the experiment is running). */
  counts: boolean;
}

/** Does this experiment change what its block serves? (The manifest keeps only these.) */
export const affectsServing = (d: ExperimentDefinition) => d.status === "running" || d.status === "paused" || d.winner !== undefined;

/** The variant `customerId` sees; `exposed`: the variant their profile says they were shown. */
export function chooseVariant(e: ServedExperiment, customerId: string, exposed: string | undefined): Choice {
  const d = e.definition;
  const pick = (key: string, counts: boolean): Choice => {
    const v = d.variants.find((x) => x.key === key) ?? d.variants[0]!;
    return { experiment: e.id, variant: v.key, holdout: false, block: v.block ?? d.block, slots: v.slots, counts };
  };
  if (d.winner !== undefined) return pick(d.winner, false);
  if (d.status !== "running") return pick(d.variants[0]!.key, false);
  // A bandit's split replaces the weights for customers not yet exposed (the exposed keep theirs).
  const variants = e.weights ? d.variants.map((v) => ({ ...v, weight: e.weights![v.key] ?? 0 })) : d.variants;
  const a = assign({ id: e.id, ...(d.seed ? { seed: d.seed } : {}), variants: variants.some((v) => v.weight > 0) ? variants : d.variants, holdout: d.holdout }, customerId, exposed);
  if (a.holdout) return { experiment: e.id, variant: HOLDOUT, holdout: true, block: d.block, slots: {}, counts: true };
  return pick(a.key, true);
}

/** The experiments that change serving, by block (one per block: saving refuses a second). */
export function servedByBlock(experiments: readonly ServedExperiment[]): Record<string, ServedExperiment> {
  const out: Record<string, ServedExperiment> = {};
  for (const e of experiments) if (affectsServing(e.definition)) out[e.definition.block] = e;
  return out;
}
