// A Rapport for a benchmark phase: its own local state, started with `wrangler dev`, with its
// consumer's batch log lines (`pipeline.batch`) collected, and those it could not read kept apart
// (the events they counted would be missing from the totals).
import { applyMigrationsAndSeedKeys, startDev } from "../scripts/local.mjs";

export async function freshServer(port, stateDir) {
  applyMigrationsAndSeedKeys(stateDir);
  const batches = [];
  const unparsed = [];
  const server = await startDev({
    port,
    stateDir,
    echo: false,
    onLine: (line) => {
      if (!line.includes('"pipeline.batch"')) return;
      try {
        batches.push({ at: performance.now(), ...JSON.parse(line.slice(line.indexOf("{"))) });
      } catch {
        unparsed.push(line.slice(0, 300));
      }
    },
  });
  return { ...server, batches, unparsed };
}
