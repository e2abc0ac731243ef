/** Enricher definitions in D1 (the current version of each), and the isolate's copy of them. */
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import { isolateCache } from "../db/isolate-cache";
import { describeError, log } from "../kernel/log";
import { EnricherDefinition } from "./definition";

export type StoredEnricher = StoredDefinition<EnricherDefinition>;

const store = definitionStore("enrichers", (v) => EnricherDefinition.parse(v));

export const getEnricher = store.get;
export const listEnrichers = store.list;

export async function saveEnricher(d1: D1Database, id: string, definition: EnricherDefinition, expectedVersion?: number, now = Date.now()): Promise<{ enricher: StoredEnricher; created: boolean }> {
  const { stored, created } = await store.save(d1, id, definition, expectedVersion, now);
  enrichers.forget();
  return { enricher: stored, created };
}

export async function deleteEnricher(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const deleted = await store.delete(d1, id, now);
  enrichers.forget();
  return deleted;
}

// The pipeline asks on every batch; the list changes rarely. Within 30 s of a save everywhere.
const enrichers = isolateCache(async (d1) => (await listEnrichers(d1)).filter((e) => e.definition.enabled), 30_000, (err) => log("warn", "enrichment.definitions_stale", describeError(err)));

/** The enabled enrichers, as the pipeline sees them (none if D1 cannot say: enrichment waits). */
export async function activeEnrichers(d1: D1Database): Promise<StoredEnricher[]> {
  try {
    return await enrichers.get(d1);
  } catch (err) {
    log("warn", "enrichment.definitions_unavailable", describeError(err));
    return [];
  }
}
