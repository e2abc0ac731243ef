// A Rapport for a benchmark phase: its own local state, started with `wrangler dev`, with its
// consumer's batch log lines (`pipeline.batch`) collected, and those it could not read kept apart
// (the events they counted would be missing from the totals).
import { applyMigrationsAndSeedKeys, startDev } from "../scripts/local.mjs";

/**
 * What every server of the benchmark (Rapport and the trivial worker alike) runs with. wrangler
 * dev streams each invocation's trace events (every request, subrequest and log line) to its
 * local observability dashboard; that collector is a development tool, not part of the Workers
 * runtime, and it cost Rapport's busy thread about a quarter of its time on profile reads.
 */
export const BENCH_DEV_ENV = { X_LOCAL_OBSERVABILITY: "false" };

/** `vars`: ["NAME:value", …] over wrangler.toml's [vars]; BENCH_VARS (comma-separated) by default. */
export async function freshServer(port, stateDir, vars = (process.env.BENCH_VARS ?? "").split(",").filter(Boolean)) {
  applyMigrationsAndSeedKeys(stateDir);
  const batches = [];
  const unparsed = [];
  /** Consumer failures (a batch isolated, a message retried): their whole log lines. */
  const failures = [];
  /** Requests whose ingest buffer failed and that were sent on their own (src/ingest/accept.ts). */
  const bypassed = [];
  const server = await startDev({
    port,
    stateDir,
    echo: false,
    env: BENCH_DEV_ENV,
    vars,
    onLine: (line) => {
      if (line.includes('"pipeline.batch_failed_isolating"') || line.includes('"pipeline.message_failed"')) failures.push(line);
      if (line.includes('"ingest.buffer_bypassed"')) bypassed.push(line);
      if (!line.includes('"pipeline.batch"')) return;
      try {
        batches.push({ at: performance.now(), ...JSON.parse(line.slice(line.indexOf("{"))) });
      } catch {
        unparsed.push(line.slice(0, 300));
      }
    },
  });
  return { ...server, batches, unparsed, failures, bypassed };
}
