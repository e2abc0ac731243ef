/** Alert rules, states and history in the control database. */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { definitionStore, type StoredDefinition } from "../db/current-definitions";
import { alertHistory, alertStates } from "../db/schema";
import { AlertRuleDefinition } from "./definition";
import type { Outcome } from "./notify";
import type { AlertState } from "./state";

export type StoredAlertRule = StoredDefinition<AlertRuleDefinition>;
const rules = definitionStore("alert_rules", (v) => AlertRuleDefinition.parse(v));
export const getAlertRule = rules.get;
export const listAlertRules = rules.list;
export const saveAlertRule = rules.save;
export const deleteAlertRule = rules.delete;

export async function statesOf(d1: D1Database, ruleId?: string): Promise<AlertState[]> {
  const db = database(d1);
  const rows = await (ruleId ? db.select().from(alertStates).where(eq(alertStates.ruleId, ruleId)) : db.select().from(alertStates)).all();
  return rows.map((r) => ({ ...r }));
}

/**
 * Writes a rule's new state for a subject, guarded by the state read (its `updatedAt`, or its
 * absence): false when another evaluation moved it meanwhile (that one notifies, this one not).
 */
export async function moveState(d1: D1Database, held: AlertState | undefined, next: AlertState): Promise<boolean> {
  const db = database(d1);
  if (!held) {
    const res = await db.insert(alertStates).values(next).onConflictDoNothing().run();
    return (res.meta.changes ?? 0) > 0;
  }
  const res = await db
    .update(alertStates)
    .set({ status: next.status, since: next.since, dedupKey: next.dedupKey, value: next.value, notifiedAt: next.notifiedAt, updatedAt: next.updatedAt })
    .where(and(eq(alertStates.ruleId, held.ruleId), eq(alertStates.subject, held.subject), eq(alertStates.updatedAt, held.updatedAt)))
    .run();
  return (res.meta.changes ?? 0) > 0;
}

/** After the destinations answered: when all took it, the incident was told (a resolve is done). */
export async function markNotified(d1: D1Database, s: AlertState, now: number): Promise<void> {
  await database(d1)
    .update(alertStates)
    .set(s.status === "resolving" ? { status: "resolved", notifiedAt: now } : { notifiedAt: now })
    .where(and(eq(alertStates.ruleId, s.ruleId), eq(alertStates.subject, s.subject), eq(alertStates.dedupKey, s.dedupKey)))
    .run();
}

export async function recordNotice(d1: D1Database, s: AlertState, action: "trigger" | "remind" | "resolve", outcomes: Outcome[], now: number): Promise<void> {
  await database(d1).insert(alertHistory).values({ ruleId: s.ruleId, subject: s.subject, action, at: now, value: s.value, dedupKey: s.dedupKey, outcomes: JSON.stringify(outcomes) }).run();
}

export async function alertHistoryPage(d1: D1Database, limit: number, before?: number) {
  const db = database(d1);
  const rows = await db
    .select()
    .from(alertHistory)
    .where(before ? lt(alertHistory.at, before) : sql`1 = 1`)
    .orderBy(desc(alertHistory.at), desc(alertHistory.seq))
    .limit(limit)
    .all();
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString(), outcomes: JSON.parse(r.outcomes) as Outcome[] }));
}

/** A deleted rule's alerts go with it (its history stays). */
export async function forgetStates(d1: D1Database, ruleId: string): Promise<void> {
  await database(d1).delete(alertStates).where(eq(alertStates.ruleId, ruleId)).run();
}
