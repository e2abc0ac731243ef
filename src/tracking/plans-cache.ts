/**
 * The plans ingest checks against, read from D1 at most once per isolate every 30 seconds (and
 * compiled once per version), so a source without a plan costs ingest nothing but a map lookup.
 * A saved plan therefore applies everywhere within 30 s; in the isolate that saved it, at once.
 */
import { describeError, log } from "../log";
import { compilePlan, type CompiledPlan } from "./compile";
import { DEFAULT_SOURCE } from "./definition";
import { listPlans } from "./store";

const TTL_MS = 30_000;

interface Loaded {
  at: number;
  bySource: Map<string, CompiledPlan>;
}

let loaded: Loaded | null = null;
let loading: Promise<Loaded> | null = null;
const compiled = new Map<string, CompiledPlan>();

async function load(d1: D1Database): Promise<Loaded> {
  const bySource = new Map<string, CompiledPlan>();
  for (const p of await listPlans(d1)) {
    const key = `${p.id}@${p.version}`;
    let c = compiled.get(key);
    if (!c) {
      c = compilePlan(p.id, p.version, p.plan);
      compiled.set(key, c);
    }
    for (const source of p.plan.sources) bySource.set(source, c);
  }
  const current = new Set([...bySource.values()].map((c) => `${c.id}@${c.version}`));
  for (const key of compiled.keys()) if (!current.has(key)) compiled.delete(key);
  return { at: Date.now(), bySource };
}

/**
 * The plan of `sourceId` (its own, else the `*` plan), or null when it has none. Rapport's own
 * events (`rapport-content`: email clicks) follow only a plan that names them.
 */
export async function planFor(d1: D1Database, sourceId: string): Promise<CompiledPlan | null> {
  if (!loaded || Date.now() - loaded.at > TTL_MS) {
    // One read for every request that arrives while it is under way.
    loading ??= load(d1).finally(() => (loading = null));
    try {
      loaded = await loading;
    } catch (err) {
      // Better the plans we had than refusing events: ingest must not depend on D1 being up.
      log("warn", "tracking.plans_unavailable", describeError(err));
      if (!loaded) return null;
    }
  }
  return loaded.bySource.get(sourceId) ?? (sourceId.startsWith("rapport-") ? null : loaded.bySource.get(DEFAULT_SOURCE)) ?? null;
}

/** After a save or delete in this isolate: the next event reads the plans again. */
export function forgetPlans(): void {
  loaded = null;
}
