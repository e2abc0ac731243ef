/** Enricher definitions in D1 (the current version of each), and the isolate's copy of them. */
import { deleteDefinition, getDefinition, listDefinitions, saveDefinition, type DefinitionRow } from "../db/current-definitions";
import { isolateCache } from "../db/isolate-cache";
import { describeError, log } from "../log";
import { EnricherDefinition } from "./definition";

export interface StoredEnricher {
  id: string;
  version: number;
  definition: EnricherDefinition;
  createdAt: number;
  updatedAt: number;
}

const toEnricher = (r: DefinitionRow): StoredEnricher => ({ id: r.id, version: r.version, definition: EnricherDefinition.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export async function getEnricher(d1: D1Database, id: string): Promise<StoredEnricher | null> {
  const row = await getDefinition(d1, "enrichers", id);
  return row ? toEnricher(row) : null;
}

export const listEnrichers = async (d1: D1Database) => (await listDefinitions(d1, "enrichers")).map(toEnricher);

export async function saveEnricher(d1: D1Database, id: string, definition: EnricherDefinition, expectedVersion?: number, now = Date.now()): Promise<{ enricher: StoredEnricher; created: boolean }> {
  const { row, created } = await saveDefinition(d1, "enrichers", id, JSON.stringify(definition), expectedVersion, now);
  enrichers.forget();
  return { enricher: toEnricher(row), created };
}

export async function deleteEnricher(d1: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const deleted = await deleteDefinition(d1, "enrichers", id, now);
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
