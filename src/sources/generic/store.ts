/** Generic source definitions in D1: the current version of each. */
import { definitionStore, type StoredDefinition } from "../../db/current-definitions";
import { SourceDefinition } from "./definition";

export type StoredSource = StoredDefinition<SourceDefinition>;

const store = definitionStore("sources", (v) => SourceDefinition.parse(v));

export const getSource = store.get;
export const listSources = store.list;
export const deleteSource = store.delete;

export async function saveSource(d1: D1Database, id: string, definition: SourceDefinition, expectedVersion?: number, now = Date.now()): Promise<{ source: StoredSource; created: boolean }> {
  const { stored, created } = await store.save(d1, id, definition, expectedVersion, now);
  return { source: stored, created };
}
