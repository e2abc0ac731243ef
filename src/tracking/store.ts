/** Tracking plans in D1: the current version of each (db/current-definitions.ts). */
import { deleteDefinition, getDefinition, listDefinitions, saveDefinition, type DefinitionRow } from "../db/current-definitions";
import { TrackingPlan } from "./definition";

export interface StoredPlan {
  id: string;
  version: number;
  plan: TrackingPlan;
  createdAt: number;
  updatedAt: number;
}

const toPlan = (r: DefinitionRow): StoredPlan => ({ id: r.id, version: r.version, plan: TrackingPlan.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export async function getPlan(d1: D1Database, id: string): Promise<StoredPlan | null> {
  const row = await getDefinition(d1, "tracking_plans", id);
  return row ? toPlan(row) : null;
}

export const listPlans = async (d1: D1Database) => (await listDefinitions(d1, "tracking_plans")).map(toPlan);

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
    const shared = other.plan.sources.find((s) => plan.sources.includes(s));
    if (shared !== undefined) throw new SourceTaken(shared, other.id);
  }
  const { row, created } = await saveDefinition(d1, "tracking_plans", id, JSON.stringify(plan), expectedVersion, now);
  return { stored: toPlan(row), created };
}

export const deletePlan = (d1: D1Database, id: string, now = Date.now()) => deleteDefinition(d1, "tracking_plans", id, now);
