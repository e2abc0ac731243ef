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
import { log } from "../kernel/log";
import { type BanditSettings, banditWeights } from "./bandit";
import type { ExperimentDefinition } from "./definition";
import { noTotals, type TallyRow, type VariantTotals } from "./totals";

export type { TallyRow, VariantTotals } from "./totals";

/** What a bandit's tally needs to steer its split (set by every save of the experiment). */
export interface BanditConfig {
  experiment: string;
  /** The variant keys, in the definition's order. */
  variants: string[];
  metric: ExperimentDefinition["metric"]["primary"];
  settings: BanditSettings & { updateSeconds: number };
}

/** The KV value renders read a bandit's split from (with the block manifest, once per isolate refresh). */
export const banditWeightsKey = (experimentId: string) => `experiments:weights:${experimentId}`;

export interface PublishedWeights {
  weights: Record<string, number>;
  /** When they were computed (ms) and from how many exposures. */
  at: number;
  exposures: number;
}

/** The totals' columns: counts and sums, then each metric's covariate sums (x, x², x·y). */
const COLUMNS = [
  "exposed",
  "converted",
  "clicked",
  "unsubscribed",
  "complained",
  "conversions",
  "clicks",
  "revenue",
  "revenue_squares",
  "pre_conv",
  "pre_conv_sq",
  "pre_conv_y",
  "pre_rev",
  "pre_rev_sq",
  "pre_rev_y",
  "pre_clk",
  "pre_clk_sq",
  "pre_clk_y",
] as const;
/** Columns added to the customers table after it first existed (an object made before keeps its rows). */
const CUSTOMER_COLUMNS_ADDED = ["pre_conv", "pre_rev", "pre_clk"];
type Column = (typeof COLUMNS)[number];

/** What one customer adds to its variant's totals. */
function contribution(r: Omit<TallyRow, "customerId" | "version" | "variant" | "at">): Record<Column, number> {
  const [conv, rev, clk] = r.pre ?? [0, 0, 0];
  const converted = r.conversions > 0 ? 1 : 0;
  const clicked = r.clicks > 0 ? 1 : 0;
  return {
    pre_conv: conv,
    pre_conv_sq: conv * conv,
    pre_conv_y: conv * converted,
    pre_rev: rev,
    pre_rev_sq: rev * rev,
    pre_rev_y: rev * r.revenue,
    pre_clk: clk,
    pre_clk_sq: clk * clk,
    pre_clk_y: clk * clicked,
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

/** A customer's row as SQLite holds it: the record, its covariates in columns of their own. */
type HeldRow = Omit<TallyRow, "customerId" | "pre"> & {
  pre_conv: number | null;
  pre_rev: number | null;
  pre_clk: number | null;
} & Record<string, SqlStorageValue>;

const preOf = (h: HeldRow): [number, number, number] => [h.pre_conv ?? 0, h.pre_rev ?? 0, h.pre_clk ?? 0];

export class ExperimentTally extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, variant TEXT NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL,
      conversions INTEGER NOT NULL, revenue INTEGER NOT NULL, clicks INTEGER NOT NULL, unsubscribes INTEGER NOT NULL, complaints INTEGER NOT NULL,
      pre_conv REAL, pre_rev REAL, pre_clk REAL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS totals (variant TEXT PRIMARY KEY, ${COLUMNS.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(", ")},
      first_at INTEGER, last_at INTEGER)`);
    this.addMissingColumns("customers", CUSTOMER_COLUMNS_ADDED, "REAL");
    this.addMissingColumns("totals", [...COLUMNS], "REAL NOT NULL DEFAULT 0");
  }

  /** Upserts customers' records (newer versions only) and removes merged-away customers; answers the rows written. */
  async record(rows: readonly TallyRow[], removed: readonly string[] = []): Promise<{ rowsWritten: number }> {
    let rowsWritten = 0;
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) rowsWritten += this.upsert(row);
      for (const id of removed) rowsWritten += this.remove(id);
    });
    if (rowsWritten > 0) await this.steer();
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
        covariates: {
          conversion: { sum: Number(t.pre_conv), squares: Number(t.pre_conv_sq), cross: Number(t.pre_conv_y) },
          revenue: { sum: Number(t.pre_rev), squares: Number(t.pre_rev_sq), cross: Number(t.pre_rev_y) },
          click: { sum: Number(t.pre_clk), squares: Number(t.pre_clk_sq), cross: Number(t.pre_clk_y) },
        },
        firstExposureAt: t.first_at === null ? null : Number(t.first_at),
        lastExposureAt: t.last_at === null ? null : Number(t.last_at),
      }));
  }

  /** Forgets everything (the experiment was deleted). */
  async clear(): Promise<void> {
    const config = this.ctx.storage.kv.get<BanditConfig>("bandit");
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM customers`);
      this.sql.exec(`DELETE FROM totals`);
      this.ctx.storage.kv.delete("bandit");
      this.ctx.storage.kv.delete("weights");
    });
    if (config) await this.env.PROFILES.delete(banditWeightsKey(config.experiment));
  }

  /** Bandit mode on (with its settings) or off; a bandit's split is written at once. */
  async configure(config: BanditConfig | null): Promise<void> {
    if (!config) {
      const held = this.ctx.storage.kv.get<BanditConfig>("bandit");
      this.ctx.storage.kv.delete("bandit");
      if (held) await this.env.PROFILES.delete(banditWeightsKey(held.experiment));
      return;
    }
    this.ctx.storage.kv.put("bandit", config);
    await this.publish();
  }

  /** The split a bandit serves now (null: not a bandit, or not written yet). */
  weights(): PublishedWeights | null {
    return this.ctx.storage.kv.get<PublishedWeights>("weights") ?? null;
  }

  override async alarm(): Promise<void> {
    await this.publish();
  }

  /** After a batch's records: a bandit writes its new split now, or when its interval is over. */
  private async steer(): Promise<void> {
    const config = this.ctx.storage.kv.get<BanditConfig>("bandit");
    if (!config) return;
    const last = this.weights()?.at ?? 0;
    const due = last + config.settings.updateSeconds * 1000;
    if (Date.now() >= due) await this.publish();
    else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(due);
  }

  private async publish(): Promise<void> {
    const config = this.ctx.storage.kv.get<BanditConfig>("bandit");
    if (!config) return;
    const byKey = new Map(this.totals().map((t) => [t.variant, t]));
    const arms = config.variants.map((key) => byKey.get(key) ?? noTotals(key));
    const exposures = arms.reduce((n, a) => n + a.exposed, 0);
    // Seeded by the exposures: the same totals give the same split.
    const split = banditWeights(arms, config.metric, config.settings, exposures + 1);
    const published: PublishedWeights = { weights: Object.fromEntries(config.variants.map((key, i) => [key, split[i]!])), at: Date.now(), exposures };
    await this.env.PROFILES.put(banditWeightsKey(config.experiment), JSON.stringify(published));
    this.ctx.storage.kv.put("weights", published);
    log("info", "experiments.bandit_split", { experiment: config.experiment, exposures, weights: published.weights });
  }

  /** Columns a newer version added to a table this object created earlier. */
  private addMissingColumns(table: string, columns: readonly string[], type: string): void {
    const have = new Set(this.sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((c) => c.name));
    for (const c of columns) if (!have.has(c)) this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${c} ${type}`);
  }

  private held(id: string): HeldRow | null {
    return this.sql.exec<HeldRow>(`SELECT variant, version, at, conversions, revenue, clicks, unsubscribes, complaints, pre_conv, pre_rev, pre_clk FROM customers WHERE id = ?`, id).toArray()[0] ?? null;
  }

  private upsert(row: TallyRow): number {
    const held = this.held(row.customerId);
    if (held && held.version >= row.version) return 0;
    if (held) this.add(held.variant, contribution({ ...held, pre: preOf(held) }), -1, null);
    this.add(row.variant, contribution(row), 1, row.at);
    const [preConv, preRev, preClk] = row.pre ?? [0, 0, 0];
    this.sql.exec(
      `INSERT INTO customers (id, variant, version, at, conversions, revenue, clicks, unsubscribes, complaints, pre_conv, pre_rev, pre_clk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET variant = excluded.variant, version = excluded.version, at = excluded.at, conversions = excluded.conversions,
         revenue = excluded.revenue, clicks = excluded.clicks, unsubscribes = excluded.unsubscribes, complaints = excluded.complaints,
         pre_conv = excluded.pre_conv, pre_rev = excluded.pre_rev, pre_clk = excluded.pre_clk`,
      row.customerId,
      row.variant,
      row.version,
      row.at,
      row.conversions,
      row.revenue,
      row.clicks,
      row.unsubscribes,
      row.complaints,
      preConv,
      preRev,
      preClk,
    );
    return held && held.variant !== row.variant ? 3 : 2;
  }

  private remove(id: string): number {
    const held = this.held(id);
    if (!held) return 0;
    this.add(held.variant, contribution({ ...held, pre: preOf(held) }), -1, null);
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

/** Tells the tally whether it steers a bandit, after every save of the experiment. */
export async function configureTally(env: Env, experimentId: string, d: ExperimentDefinition): Promise<void> {
  const steering = d.bandit && d.status === "running" && d.winner === undefined;
  await tallyStub(env, experimentId).configure(steering ? { experiment: experimentId, variants: d.variants.map((v) => v.key), metric: d.metric.primary, settings: d.bandit! } : null);
}
