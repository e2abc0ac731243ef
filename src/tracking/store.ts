/** Tracking plans in D1: the current version of each (db/current-definitions.ts). */
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
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

export async function savePlan(d1: D1Database, id: string, plan: TrackingPlan, expectedVersion?: number, now = Date.now()): Promise<{ stored: StoredPlan; created: boolean }> {
  for (const other of await listPlans(d1)) {
    if (other.id === id) continue;
    const shared = other.definition.sources.find((s) => plan.sources.includes(s));
    if (shared !== undefined) throw new SourceTaken(shared, other.id);
  }
  const { stored, created } = await store.save(d1, id, plan, expectedVersion, now);
  return { stored, created };
}
