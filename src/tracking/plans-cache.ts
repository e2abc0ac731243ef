/**
 * The plans ingest checks against, read from D1 at most once per isolate every 30 seconds (and
 * compiled once per version), so a source without a plan costs ingest nothing but a map lookup.
 * A saved plan therefore applies everywhere within 30 s; in the isolate that saved it, at once.
 */
import { isolateCache } from "../db/isolate-cache";
import { isInternalSource } from "../model/events";
import { describeError, log } from "../kernel/log";
import { compilePlan, type CompiledPlan } from "./compile";
import { DEFAULT_SOURCE } from "./definition";
import { listPlans } from "./store";

const compiled = new Map<string, CompiledPlan>();

async function load(d1: D1Database): Promise<Map<string, CompiledPlan>> {
  const bySource = new Map<string, CompiledPlan>();
  for (const p of await listPlans(d1)) {
    const key = `${p.id}@${p.version}`;
    let c = compiled.get(key);
    if (!c) {
      c = compilePlan(p.id, p.version, p.definition);
      compiled.set(key, c);
    }
    for (const source of p.definition.sources) bySource.set(source, c);
  }
  const current = new Set([...bySource.values()].map((c) => `${c.id}@${c.version}`));
  for (const key of compiled.keys()) if (!current.has(key)) compiled.delete(key);
  return bySource;
}

// Better the plans we had than refusing events: ingest must not depend on D1 being up.
const plans = isolateCache(load, 30_000, (err) => log("warn", "tracking.plans_stale", describeError(err)));

/**
 * The plan of `sourceId` (its own, else the `*` plan), or null when it has none. Rapport's own
 * events (`rapport-content`: email clicks) follow only a plan that names them.
 */
export async function planFor(d1: D1Database, sourceId: string): Promise<CompiledPlan | null> {
  let bySource: Map<string, CompiledPlan>;
  try {
    bySource = await plans.get(d1);
  } catch (err) {
    log("warn", "tracking.plans_unavailable", describeError(err));
    return null;
  }
  return bySource.get(sourceId) ?? (isInternalSource(sourceId) ? null : bySource.get(DEFAULT_SOURCE)) ?? null;
}

/** After a save or delete in this isolate: the next event reads the plans again. */
export const forgetPlans = () => plans.forget();
