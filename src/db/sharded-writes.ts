/**
 * The writes of one commit over several D1 databases (docs/scaling.md, "A commit across shards").
 * D1 runs a batch as a transaction, but no transaction spans two databases, so the writes are
 * grouped in *phases* that run in a fixed order, each phase one batch per database (in parallel):
 *
 * 1. `claim`: new identifiers are inserted where their keys live. A key someone else claimed
 *    meanwhile aborts its batch and the commit starts over; a claim left behind by a commit that
 *    failed later points to a customer that has no row yet, which the next attempt takes over.
 * 2. `absorb`: each customer merged away is moved into the merges log of its own database,
 *    guarded by its version (from then on nobody writes it; the log holds it as it was).
 * 3. `write`: the profiles, each guarded by its version, with the watermark of its events and the
 *    ids of the customers it absorbed, and what belongs with them (memberships, product views).
 *    Each customer's row commits alone, so a retry applies exactly the events whose watermark did
 *    not move.
 * 4. `repoint`: the identifiers of merged-away customers are pointed at their survivors.
 * 5. `control`: rows of the control database that are idempotent by their keys (refusals,
 *    quarantined events, counters of what the batch saw).
 *
 * A crash between phases leaves a state the next attempt recognizes and finishes (pipeline/resolve.ts).
 * When every statement targets one database (a deployment with one shard, or a batch that only
 * touches customers of one), the phases run as one batch: one transaction, as before shards.
 */
import { rowsWritten, runBatch, type Statement } from "./statements";

export const PHASES = ["claim", "absorb", "write", "repoint", "control"] as const;
export type Phase = (typeof PHASES)[number];

export class ShardedWrites {
  private readonly byPhase = new Map<Phase, Map<D1Database, Statement[]>>(PHASES.map((p) => [p, new Map()]));

  /** Batches and rows written per database by `run` (the benchmark reports them per event). */
  readonly written = new Map<D1Database, { batches: number; rows: number }>();

  /** `now`: the commit's clock, for the statements that record when. */
  constructor(readonly now = Date.now()) {}

  add(phase: Phase, d1: D1Database, statements: readonly (Statement | null)[]): this {
    const kept = statements.filter((s): s is Statement => s !== null);
    if (kept.length === 0) return this;
    const byDatabase = this.byPhase.get(phase)!;
    byDatabase.set(d1, [...(byDatabase.get(d1) ?? []), ...kept]);
    return this;
  }

  /** Every database written, once. */
  get databases(): D1Database[] {
    return [...new Set([...this.byPhase.values()].flatMap((m) => [...m.keys()]))];
  }

  /**
   * Runs the phases in order; returns the rows written. `onPartial` is told when a phase failed
   * after an earlier one committed (the caller's retry must then not assume nothing happened).
   * `only`: run just these phases (what a crash after them leaves, for tests of the recovery).
   */
  async run(onPartial?: () => void, only: readonly Phase[] = PHASES): Promise<number> {
    const phases = PHASES.filter((p) => only.includes(p));
    const databases = [...new Set(phases.flatMap((p) => [...this.byPhase.get(p)!.keys()]))];
    if (databases.length === 0) return 0;
    if (databases.length === 1) {
      const d1 = databases[0]!;
      const rows = rowsWritten(await runBatch(d1, phases.flatMap((p) => this.byPhase.get(p)!.get(d1) ?? [])));
      this.count(d1, rows);
      return rows;
    }
    let written = 0;
    let committed = false;
    for (const phase of phases) {
      const batches = [...this.byPhase.get(phase)!];
      if (batches.length === 0) continue;
      const results = await Promise.allSettled(batches.map(([d1, statements]) => runBatch(d1, statements)));
      results.forEach((r, i) => {
        if (r.status !== "fulfilled") return;
        written += rowsWritten(r.value);
        this.count(batches[i]![0], rowsWritten(r.value));
      });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) {
        if (committed || results.some((r) => r.status === "fulfilled")) onPartial?.();
        throw failed.reason;
      }
      committed = true;
    }
    return written;
  }

  private count(d1: D1Database, rows: number): void {
    const w = this.written.get(d1) ?? { batches: 0, rows: 0 };
    this.written.set(d1, { batches: w.batches + 1, rows: w.rows + rows });
  }
}
