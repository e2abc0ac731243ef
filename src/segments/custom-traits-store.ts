/** Custom computed trait definitions in D1: the current version of each (no history kept). */
import { deleteDefinition, getDefinition, listDefinitions, saveDefinition, type DefinitionRow } from "../db/current-definitions";
import { CustomTraitDefinition, type CustomTrait } from "./custom-traits";

export interface StoredCustomTrait extends CustomTrait {
  createdAt: number;
  updatedAt: number;
}

const toTrait = (r: DefinitionRow): StoredCustomTrait => ({ id: r.id, version: r.version, definition: CustomTraitDefinition.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export const listCustomTraits = async (d1: D1Database) => (await listDefinitions(d1, "computed_traits")).map(toTrait);

export async function getCustomTrait(d1: D1Database, id: string): Promise<StoredCustomTrait | null> {
  const row = await getDefinition(d1, "computed_traits", id);
  return row ? toTrait(row) : null;
}

/** Saves a new version (`expectedVersion`: refuse if someone saved meanwhile). The same definition again changes nothing. */
export async function saveCustomTrait(d1: D1Database, id: string, definition: CustomTraitDefinition, expectedVersion?: number, now = Date.now()): Promise<{ trait: StoredCustomTrait; created: boolean; changed: boolean }> {
  const { row, created, changed } = await saveDefinition(d1, "computed_traits", id, JSON.stringify(definition), expectedVersion, now);
  return { trait: toTrait(row), created, changed };
}

export const deleteCustomTrait = (d1: D1Database, id: string, now = Date.now()) => deleteDefinition(d1, "computed_traits", id, now);
