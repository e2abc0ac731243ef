/**
 * One Durable Object per experiment (`EXPERIMENT_TALLY`, named by the experiment id): each
 * exposed customer's outcome as their profile last said it, and the totals per variant that the
 * results are computed from, kept in step in one transaction. No scan of events or profiles per
 * results request.
 *
 * Idempotent under the pipeline's at-least-once fan-out: a row carries the customer's whole
 * record (not a delta) and the profile version that wrote it; an older or equal version changes
 * nothing, so a retried or late call never counts twice. A customer merged into another is
 * removed (the survivor's record holds both profiles' outcomes).
 */
import { DurableObject } from "cloudflare:workers";

/** A customer's record as the pipeline sends it (profiles/experiments.ts, with the profile version). */
export interface TallyRow {
  customerId: string;
  version: number;
  variant: string;
  at: number;
  conversions: number;
  revenue: number;
  clicks: number;
  unsubscribes: number;
  complaints: number;
}

/** Per variant: exposed customers and the sums the statistics need. */
export interface VariantTotals {
  variant: string;
  exposed: number;
  /** Customers with at least one conversion / click / unsubscribe / complaint. */
  converted: number;
  clicked: number;
  unsubscribed: number;
  complained: number;
  conversions: number;
  clicks: number;
  /** Revenue in minor units, and the sum of each customer's revenue squared (for its variance). */
  revenue: number;
  revenueSquares: number;
  firstExposureAt: number | null;
  lastExposureAt: number | null;
}

const COLUMNS = ["exposed", "converted", "clicked", "unsubscribed", "complained", "conversions", "clicks", "revenue", "revenue_squares"] as const;
type Column = (typeof COLUMNS)[number];

/** What one customer adds to its variant's totals. */
function contribution(r: Omit<TallyRow, "customerId" | "version" | "variant" | "at">): Record<Column, number> {
  return {
    exposed: 1,
    converted: r.conversions > 0 ? 1 : 0,
    clicked: r.clicks > 0 ? 1 : 0,
    unsubscribed: r.unsubscribes > 0 ? 1 : 0,
    complained: r.complaints > 0 ? 1 : 0,
    conversions: r.conversions,
    clicks: r.clicks,
    revenue: r.revenue,
    revenue_squares: r.revenue * r.revenue,
  };
}

interface HeldRow {
  variant: string;
  version: number;
  at: number;
  conversions: number;
  revenue: number;
  clicks: number;
  unsubscribes: number;
  complaints: number;
  [key: string]: SqlStorageValue;
}

export class ExperimentTally extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, variant TEXT NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL,
      conversions INTEGER NOT NULL, revenue INTEGER NOT NULL, clicks INTEGER NOT NULL, unsubscribes INTEGER NOT NULL, complaints INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS totals (variant TEXT PRIMARY KEY, ${COLUMNS.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(", ")},
      first_at INTEGER, last_at INTEGER)`);
  }

  /** Upserts customers' records (newer versions only) and removes merged-away customers; answers the rows written. */
  record(rows: readonly TallyRow[], removed: readonly string[] = []): { rowsWritten: number } {
    let rowsWritten = 0;
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) rowsWritten += this.upsert(row);
      for (const id of removed) rowsWritten += this.remove(id);
    });
    return { rowsWritten };
  }

  totals(): VariantTotals[] {
    return this.sql
      .exec<Record<string, number | string | null>>(`SELECT * FROM totals ORDER BY variant`)
      .toArray()
      .map((t) => ({
        variant: String(t.variant),
        exposed: Number(t.exposed),
        converted: Number(t.converted),
        clicked: Number(t.clicked),
        unsubscribed: Number(t.unsubscribed),
        complained: Number(t.complained),
        conversions: Number(t.conversions),
        clicks: Number(t.clicks),
        revenue: Number(t.revenue),
        revenueSquares: Number(t.revenue_squares),
        firstExposureAt: t.first_at === null ? null : Number(t.first_at),
        lastExposureAt: t.last_at === null ? null : Number(t.last_at),
      }));
  }

  /** Forgets everything (the experiment was deleted). */
  clear(): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM customers`);
      this.sql.exec(`DELETE FROM totals`);
    });
  }

  private held(id: string): HeldRow | null {
    return this.sql.exec<HeldRow>(`SELECT variant, version, at, conversions, revenue, clicks, unsubscribes, complaints FROM customers WHERE id = ?`, id).toArray()[0] ?? null;
  }

  private upsert(row: TallyRow): number {
    const held = this.held(row.customerId);
    if (held && held.version >= row.version) return 0;
    if (held) this.add(held.variant, contribution(held), -1, null);
    this.add(row.variant, contribution(row), 1, row.at);
    this.sql.exec(
      `INSERT INTO customers (id, variant, version, at, conversions, revenue, clicks, unsubscribes, complaints) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET variant = excluded.variant, version = excluded.version, at = excluded.at, conversions = excluded.conversions,
         revenue = excluded.revenue, clicks = excluded.clicks, unsubscribes = excluded.unsubscribes, complaints = excluded.complaints`,
      row.customerId,
      row.variant,
      row.version,
      row.at,
      row.conversions,
      row.revenue,
      row.clicks,
      row.unsubscribes,
      row.complaints,
    );
    return held && held.variant !== row.variant ? 3 : 2;
  }

  private remove(id: string): number {
    const held = this.held(id);
    if (!held) return 0;
    this.add(held.variant, contribution(held), -1, null);
    this.sql.exec(`DELETE FROM customers WHERE id = ?`, id);
    return 2;
  }

  private add(variant: string, values: Record<Column, number>, sign: 1 | -1, at: number | null): void {
    const sets = COLUMNS.map((c) => `${c} = ${c} + ?`).join(", ");
    this.sql.exec(`INSERT INTO totals (variant) VALUES (?) ON CONFLICT (variant) DO NOTHING`, variant);
    this.sql.exec(`UPDATE totals SET ${sets} WHERE variant = ?`, ...COLUMNS.map((c) => sign * values[c]), variant);
    if (at !== null) this.sql.exec(`UPDATE totals SET first_at = MIN(COALESCE(first_at, ?), ?), last_at = MAX(COALESCE(last_at, ?), ?) WHERE variant = ?`, at, at, at, at, variant);
  }
}

/** The experiment's tally object. */
export const tallyStub = (env: Env, experimentId: string) => env.EXPERIMENT_TALLY.getByName(experimentId);
