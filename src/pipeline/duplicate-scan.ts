/**
 * The duplicate scan (admin API and daily cron): reads every profile, finds likely duplicates
 * that share no identifier, merges the pairs scoring at least DUPLICATE_AUTO_MERGE_SCORE and
 * keeps the others for an admin's decision. A decided pair is never proposed again.
 *
 * It reads all profiles in this invocation (pages of 1,000): fine for some hundred thousand
 * profiles; beyond that it needs to move to a Workflow or a queue of shards.
 */
import { shards } from "../db/shards";
import { and, desc, eq, gt } from "drizzle-orm";
import { readConfig } from "../model/config";
import { database } from "../db/client";
import { customers, duplicateCandidates } from "../db/schema";
import { log } from "../kernel/log";
import { identityFromKey } from "../model/identity";
import { findDuplicates, type DuplicateCandidate, type PersonRecord } from "../identity/duplicates";
import { mergeCustomers } from "./merge-customers";

const PAGE = 1000;

async function loadPeople(env: Env): Promise<PersonRecord[]> {
  const map = shards(env);
  const people: PersonRecord[] = [];
  let after = "";
  for (;;) {
    const rows = await map.page(
      PAGE,
      (d1) => database(d1).select({ id: customers.id, traits: customers.traits, identityKeys: customers.identityKeys }).from(customers).where(gt(customers.id, after)).orderBy(customers.id).limit(PAGE).all(),
      (r) => r.id,
    );
    for (const r of rows) {
      const traits = JSON.parse(r.traits) as Record<string, unknown>;
      const identities = (JSON.parse(r.identityKeys) as string[]).map(identityFromKey);
      const values = (kind: string) => identities.filter((i) => i.kind === kind).map((i) => i.value);
      const address = (traits.address ?? {}) as Record<string, unknown>;
      const postal = address.postalCode ?? address.postal_code ?? traits.postalCode;
      people.push({
        id: r.id,
        ...(typeof traits.firstName === "string" ? { firstName: traits.firstName } : {}),
        ...(typeof traits.lastName === "string" ? { lastName: traits.lastName } : {}),
        ...(typeof postal === "string" || typeof postal === "number" ? { postalCode: String(postal) } : {}),
        emails: values("email"),
        phones: values("phone"),
        userIds: values("user_id"),
      });
    }
    if (rows.length < PAGE) return people;
    after = rows[rows.length - 1]!.id;
  }
}

export interface ScanResult {
  profiles: number;
  candidates: number;
  merged: number;
  pending: number;
}

export async function scanDuplicates(env: Env, now = Date.now()): Promise<ScanResult> {
  const db = database(env.DB);
  const { duplicateAutoMergeScore } = readConfig(env);
  const people = await loadPeople(env);
  const candidates = findDuplicates(people);
  const known = new Set((await db.select({ pair: duplicateCandidates.pair }).from(duplicateCandidates).all()).map((r) => r.pair));
  let merged = 0;
  let pending = 0;
  for (const c of candidates) {
    const pair = `${c.a}|${c.b}`;
    if (known.has(pair)) continue;
    let status: "pending" | "merged" = "pending";
    if (c.score >= duplicateAutoMergeScore) {
      const outcome = await mergeCustomers(env, [c.a, c.b], { reason: "duplicate_scan", score: c.score }, now);
      if (outcome.merged) status = "merged";
    }
    await db.insert(duplicateCandidates).values({ pair, score: c.score, reasons: JSON.stringify(c.reasons), status, createdAt: now, decidedAt: status === "merged" ? now : null }).onConflictDoNothing();
    if (status === "merged") merged += 1;
    else pending += 1;
  }
  const result = { profiles: people.length, candidates: candidates.length, merged, pending };
  log("info", "identity.duplicate_scan", { ...result });
  return result;
}

export interface CandidateView extends DuplicateCandidate {
  status: string;
  createdAt: string;
}

export async function listCandidates(env: Env, status: "pending" | "merged" | "rejected", limit: number): Promise<CandidateView[]> {
  const rows = await database(env.DB).select().from(duplicateCandidates).where(eq(duplicateCandidates.status, status)).orderBy(desc(duplicateCandidates.score)).limit(limit).all();
  return rows.map((r) => {
    const [a, b] = r.pair.split("|") as [string, string];
    return { a, b, score: r.score, reasons: JSON.parse(r.reasons) as string[], status: r.status, createdAt: new Date(r.createdAt).toISOString() };
  });
}

/** An admin's decision on a pending pair: merge it (within the identity rules) or reject it. */
export async function decideCandidate(env: Env, a: string, b: string, decision: "merge" | "reject", now = Date.now()): Promise<{ status: string; reason?: string } | null> {
  const db = database(env.DB);
  const pair = a < b ? `${a}|${b}` : `${b}|${a}`;
  const row = await db.select().from(duplicateCandidates).where(and(eq(duplicateCandidates.pair, pair), eq(duplicateCandidates.status, "pending"))).get();
  if (!row) return null;
  if (decision === "merge") {
    const [x, y] = pair.split("|") as [string, string];
    const outcome = await mergeCustomers(env, [x, y], { reason: "admin_decision", score: row.score }, now);
    if (!outcome.merged) return { status: "pending", reason: outcome.reason };
  }
  const status = decision === "merge" ? "merged" : "rejected";
  await db.update(duplicateCandidates).set({ status, decidedAt: now }).where(eq(duplicateCandidates.pair, pair));
  return { status };
}
