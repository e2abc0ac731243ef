// Loads trigger definitions from JSON files through the admin API: one trigger per file, its id
// the file name. How recipes (src/triggers/recipes/) or your own definitions kept in a repository
// reach a deployment.
//
//   node scripts/load-triggers.mjs [dir] --url https://rapport.example.com --key ak_… [--destination https://…]
//
// --destination replaces every definition's destination URL (e.g. your ESP's endpoint).
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { putDefinitions } from "./load-definitions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RECIPES_DIR = path.join(ROOT, "src", "triggers", "recipes");

/**
 * PUTs every `*.json` of `dir`; returns [{ id, status, version }], throws on the first refusal.
 * `localDemo` (npm start) loads them without quiet hours: the local demo shows its signed
 * deliveries at any hour, where a shop's customers must not get them at night.
 */
export async function loadTriggers({ url, key, dir = RECIPES_DIR, destination, localDemo = false }) {
  const transform = (definition) => {
    const { quietHours, ...rest } = definition;
    const kept = localDemo ? rest : { ...rest, ...(quietHours ? { quietHours } : {}) };
    return destination ? { ...kept, destination: { ...kept.destination, url: destination } } : kept;
  };
  return putDefinitions({ url, key, dir, resource: "triggers", transform });
}

const USAGE = `
Usage: npm run triggers:load -- [dir] [--url <url>] [--key <admin key>] [--destination <url>]

Loads trigger definitions from JSON files, one trigger per file, its id the file name
(default dir: src/triggers/recipes, the shipped recipes).
  --destination <url>  replaces every definition's destination URL (your ESP's endpoint)
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const destination = option("destination");
  const dir = positional()[0] ? path.resolve(positional()[0]) : RECIPES_DIR;
  for (const r of await loadTriggers({ url, key, dir, destination })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
