/**
 * The data-quality report: what ingest refused (quarantine by reason), which normalized traits
 * hold values that could not be normalized (by trait and reason), and how complete profiles are.
 * It scans the tables (D1 bills rows read at $0.001 per million): an admin report, not a hot path.
 */
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

export async function dataQualityReport(d1: D1Database): Promise<DataQualityReport> {
  const db = database(d1);
  const [quarantine, issues, completeness, refusals] = await Promise.all([
    db.all<{ reason: string; count: number; last_at: number }>(sql`SELECT reason, count(*) AS count, max(received_at) AS last_at FROM quarantine GROUP BY reason ORDER BY count DESC`),
    db.all<{ trait: string; reason: string; profiles: number }>(
      sql`SELECT j.key AS trait, j.value AS reason, count(*) AS profiles FROM customers, json_each(customers.trait_issues) AS j GROUP BY j.key, j.value ORDER BY profiles DESC`,
    ),
    db.get<Record<string, number>>(sql`
      SELECT count(*) AS profiles,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'user_id:%')) AS with_user_id,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'email:%')) AS with_email,
        sum(EXISTS (SELECT 1 FROM json_each(identity_keys) WHERE value LIKE 'phone:%')) AS with_phone,
        sum(json_extract(traits, '$.firstName') IS NOT NULL) AS with_first_name,
        sum(json_extract(traits, '$.lastName') IS NOT NULL) AS with_last_name,
        sum(consent <> 'null') AS with_consent
      FROM customers`),
    countRefusals(d1),
  ]);
  const n = (v: unknown) => Number(v ?? 0);
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
