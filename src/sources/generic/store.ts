/** Generic source definitions in D1: the current version of each. */
import { deleteDefinition, getDefinition, listDefinitions, saveDefinition, type DefinitionRow } from "../../db/current-definitions";
import { SourceDefinition } from "./definition";

export interface StoredSource {
  id: string;
  version: number;
  definition: SourceDefinition;
  createdAt: number;
  updatedAt: number;
}

const toSource = (r: DefinitionRow): StoredSource => ({ id: r.id, version: r.version, definition: SourceDefinition.parse(JSON.parse(r.definition)), createdAt: r.created_at, updatedAt: r.updated_at });

export async function getSource(d1: D1Database, id: string): Promise<StoredSource | null> {
  const row = await getDefinition(d1, "sources", id);
  return row ? toSource(row) : null;
}

export const listSources = async (d1: D1Database) => (await listDefinitions(d1, "sources")).map(toSource);

export async function saveSource(d1: D1Database, id: string, definition: SourceDefinition, expectedVersion?: number, now = Date.now()): Promise<{ source: StoredSource; created: boolean }> {
  const { row, created } = await saveDefinition(d1, "sources", id, JSON.stringify(definition), expectedVersion, now);
  return { source: toSource(row), created };
}

export const deleteSource = (d1: D1Database, id: string, now = Date.now()) => deleteDefinition(d1, "sources", id, now);
