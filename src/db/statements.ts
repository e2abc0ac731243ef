/**
 * Writes that commit together: drizzle statements (query builder, or `sql` templates for the
 * json_each upserts) run as one D1 batch, which D1 executes as one transaction.
 */
import type { Query } from "drizzle-orm";

/** One write of a batch: `db.insert(…)`, `db.update(…)`, `db.delete(…)` or `db.run(sql\`…\`)`. */
export type Statement = { toSQL(): Query } | { getQuery(): Query };

const queryOf = (s: Statement): Query => ("toSQL" in s ? s.toSQL() : s.getQuery());

/**
 * Runs the statements in one batch (all commit or none); returns each one's D1 result. Each is
 * bound and handed to D1's own batch: drizzle's `db.batch` fails on `db.run(sql)` items that have
 * parameters (drizzle-orm#2277, open in 0.45), and these are most of ours.
 */
export async function runBatch(d1: D1Database, statements: readonly Statement[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return d1.batch(
    statements.map((s) => {
      const q = queryOf(s);
      return d1.prepare(q.sql).bind(...q.params);
    }),
  );
}

/** Rows written by a batch (D1 bills each, and each index entry). */
export const rowsWritten = (results: readonly D1Result[]) => results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
