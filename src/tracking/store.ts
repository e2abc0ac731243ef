/** Tracking plans in D1: the current version of each (db/current-definitions.ts). */
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import { errorText } from "../kernel/log";
import { TrackingPlan } from "./definition";

export type StoredPlan = StoredDefinition<TrackingPlan>;

const store = definitionStore("tracking_plans", (v) => TrackingPlan.parse(v));

export const getPlan = store.get;
export const listPlans = store.list;
export const deletePlan = store.delete;

/** A source another plan already covers: a source has one plan. */
export class SourceTaken extends Error {
  constructor(
    readonly source: string,
    readonly planId: string,
  ) {
    super(`source ${source} already has tracking plan ${planId}`);
  }
}

/** The plan other than `id` that covers one of these sources, if any. */
async function takenSource(d1: D1Database, id: string, sources: readonly string[]): Promise<SourceTaken | null> {
  for (const other of await listPlans(d1)) {
    if (other.id === id) continue;
    const shared = other.definition.sources.find((s) => sources.includes(s));
    if (shared !== undefined) return new SourceTaken(shared, other.id);
  }
  return null;
}

/**
 * Saves a plan unless another one covers one of its sources. Checked first, for an error that
 * names them, and again by migration 0015's guard within the write: of two saves at the same
 * moment, the second aborts there.
 */
export async function savePlan(d1: D1Database, id: string, plan: TrackingPlan, expectedVersion?: number, now = Date.now()): Promise<{ stored: StoredPlan; created: boolean }> {
  const taken = await takenSource(d1, id, plan.sources);
  if (taken) throw taken;
  try {
    const { stored, created } = await store.save(d1, id, plan, expectedVersion, now);
    return { stored, created };
  } catch (err) {
    if (!errorText(err).includes("rapport_source_taken")) throw err;
    throw (await takenSource(d1, id, plan.sources)) ?? err;
  }
}
