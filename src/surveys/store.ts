/** Survey definitions (current version of each) and the count of customers holding each answer. */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import type { ShardMap } from "../db/shards";
import { SurveyDefinition } from "./definition";

export type StoredSurvey = StoredDefinition<SurveyDefinition>;

const store = definitionStore("surveys", (v) => SurveyDefinition.parse(v));
export const getSurvey = store.get;
export const listSurveys = store.list;
export const deleteSurvey = store.delete;
export const saveSurvey = store.save;

/** Customers holding each answer now, summed over every database (each counts its own customers). */
export async function answerCounts(map: ShardMap, surveyId: string): Promise<Map<string, number>> {
  const rows = await map.everywhere((d1) => database(d1).all<{ answer: string; customers: number }>(sql`SELECT answer, customers FROM survey_answers WHERE survey_id = ${surveyId}`));
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.answer, (out.get(r.answer) ?? 0) + r.customers);
  return out;
}
