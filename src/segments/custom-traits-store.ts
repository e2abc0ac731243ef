/** Custom computed trait definitions in D1: the current version of each (no history kept). */
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import { CustomTraitDefinition } from "./custom-traits";

export type StoredCustomTrait = StoredDefinition<CustomTraitDefinition>;

const store = definitionStore("computed_traits", (v) => CustomTraitDefinition.parse(v));

export const listCustomTraits = store.list;
export const getCustomTrait = store.get;
export const deleteCustomTrait = store.delete;

/** Saves a new version (`expectedVersion`: refuse if someone saved meanwhile). The same definition again changes nothing. */
export async function saveCustomTrait(d1: D1Database, id: string, definition: CustomTraitDefinition, expectedVersion?: number, now = Date.now()): Promise<{ trait: StoredCustomTrait; created: boolean; changed: boolean }> {
  const { stored, created, changed } = await store.save(d1, id, definition, expectedVersion, now);
  return { trait: stored, created, changed };
}
