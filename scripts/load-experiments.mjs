// Loads experiment definitions from JSON files through the admin API: one experiment per file, its
// id the file name. An experiment that exists already is left as it is (it may have been paused,
// shipped or edited since: loading again must not restart it).
//
//   node scripts/load-experiments.mjs [dir] --url https://rapport.example.com --key ak_…
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const EXPERIMENT_RECIPES_DIR = path.join(ROOT, "src", "experiments", "recipes");

/** Creates every experiment of `dir` that does not exist yet; returns [{ id, status, version }]. */
export async function loadExperiments({ url, key, dir = EXPERIMENT_RECIPES_DIR }) {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const results = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".json")).sort()) {
    const id = path.basename(file, ".json");
    const existing = await fetch(`${url}/v1/experiments/${id}`, { headers });
    if (existing.ok) {
      const body = await existing.json();
      results.push({ id, status: "kept", version: body.version });
      continue;
    }
    const res = await fetch(`${url}/v1/experiments/${id}`, { method: "PUT", headers, body: await readFile(path.join(dir, file), "utf8") });
    const body = await res.json();
    if (!res.ok) throw new Error(`${file}: ${res.status} ${JSON.stringify(body.errors ?? body.detail)}`);
    results.push({ id, status: "created", version: body.version });
  }
  return results;
}

const USAGE = `
Usage: npm run experiments:load -- [dir] [--url <url>] [--key <admin key>]

Creates experiments from JSON files, one per file, its id the file name (default dir:
src/experiments/recipes, the demo experiment); those that exist already are kept as they are.
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const dir = positional()[0] ? path.resolve(positional()[0]) : EXPERIMENT_RECIPES_DIR;
  for (const r of await loadExperiments({ url, key, dir })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
