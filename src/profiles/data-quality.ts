/**
 * The data-quality report: what ingest refused (quarantine by reason), which normalized traits
 * hold values that could not be normalized (by trait and reason), and how complete profiles are.
 * It scans the tables (D1 bills rows read at $0.001 per million): an admin report, not a hot path.
 */
import { shards } from "../db/shards";
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { countRefusals } from "../identity/merge-store";

export interface DataQualityReport {
  generatedAt: string;
  quarantine: { reason: string; count: number; lastAt: string }[];
  traitIssues: { trait: string; reason: string; profiles: number }[];
  identityRefusals: { rule: string; count: number }[];
  completeness: { profiles: number; withUserId: number; withEmail: number; withPhone: number; withFirstName: number; withLastName: number; withConsent: number };
}

/** The report from the control database (`DB`) and every shard's profiles (the counts added up). */
export async function dataQualityReport(env: Env): Promise<DataQualityReport> {
  const d1 = env.DB;
  const map = shards(env);
  const [quarantine, issueParts, completenessParts, refusals] = await Promise.all([
    database(d1).all<{ reason: string; count: number; last_at: number }>(sql`SELECT reason, count(*) AS count, max(received_at) AS last_at FROM quarantine GROUP BY reason ORDER BY count DESC`),
    map.everywhere((shard) => database(shard).all<{ trait: string; reason: string; profiles: number }>(sql`SELECT j.key AS trait, j.value AS reason, count(*) AS profiles FROM customers, json_each(customers.trait_issues) AS j GROUP BY j.key, j.value`)),
    map.everywhere(async (shard) => [
      (await database(shard).get<Record<string, number>>(sql`
      SELECT count(*) AS profiles,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'user_id:%')) AS with_user_id,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'email:%')) AS with_email,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'phone:%')) AS with_phone,
        sum(json_extract(traits, '$.firstName') IS NOT NULL) AS with_first_name,
        sum(json_extract(traits, '$.lastName') IS NOT NULL) AS with_last_name,
        sum(consent <> 'null') AS with_consent
      FROM customers`)) ?? {},
    ]),
    countRefusals(d1),
  ]);
  const n = (v: unknown) => Number(v ?? 0);
  const issues = [...addUp(issueParts, (r) => `${r.trait}\n${r.reason}`, (r) => r.profiles)].map(([key, profiles]) => ({ trait: key.split("\n")[0]!, reason: key.split("\n")[1]!, profiles })).sort((a, b) => b.profiles - a.profiles);
  const completeness: Record<string, number> = {};
  for (const part of completenessParts) for (const [k, v] of Object.entries(part)) completeness[k] = (completeness[k] ?? 0) + n(v);
  return {
    generatedAt: new Date().toISOString(),
    quarantine: quarantine.map((r) => ({ reason: r.reason, count: n(r.count), lastAt: new Date(n(r.last_at)).toISOString() })),
    traitIssues: issues.map((r) => ({ trait: r.trait, reason: r.reason, profiles: n(r.profiles) })),
    identityRefusals: refusals,
    completeness: {
      profiles: n(completeness?.profiles),
      withUserId: n(completeness?.with_user_id),
      withEmail: n(completeness?.with_email),
      withPhone: n(completeness?.with_phone),
      withFirstName: n(completeness?.with_first_name),
      withLastName: n(completeness?.with_last_name),
      withConsent: n(completeness?.with_consent),
    },
  };
}

/** Counts of the same key from several shards, added up. */
function addUp<T>(rows: readonly T[], keyOf: (row: T) => string, countOf: (row: T) => number): Map<string, number> {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(keyOf(r), (totals.get(keyOf(r)) ?? 0) + Number(countOf(r) ?? 0));
  return totals;
}
