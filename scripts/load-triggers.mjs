// Loads trigger definitions from JSON files through the admin API: one trigger per file, its id
// the file name. How recipes (src/triggers/recipes/) or your own definitions kept in a repository
// reach a deployment.
//
//   node scripts/load-triggers.mjs [dir] --url https://rapport.example.com --key ak_… [--destination https://…]
//
// --destination replaces every definition's destination URL (e.g. your ESP's endpoint).
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, target } from "./cli-args.mjs";
import { putDefinitions } from "./load-definitions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RECIPES_DIR = path.join(ROOT, "src", "triggers", "recipes");

/** PUTs every `*.json` of `dir`; returns [{ id, status, version }], throws on the first refusal. */
export async function loadTriggers({ url, key, dir = RECIPES_DIR, destination }) {
  const transform = (definition) => (destination ? { ...definition, destination: { ...definition.destination, url: destination } } : definition);
  return putDefinitions({ url, key, dir, resource: "triggers", transform });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const destination = option("destination");
  const dir = positional()[0] ? path.resolve(positional()[0]) : RECIPES_DIR;
  for (const r of await loadTriggers({ url, key, dir, destination })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
