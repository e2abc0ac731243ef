// Loads segment definitions from JSON files through the admin API: one segment per file, its id
// the file name. How the shipped segments (src/segments/recipes/) or your own reach a deployment.
//
//   node scripts/load-segments.mjs [dir] --url https://rapport.example.com --key ak_…
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { putDefinitions } from "./load-definitions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SEGMENT_RECIPES_DIR = path.join(ROOT, "src", "segments", "recipes");

export const loadSegments = ({ url, key, dir = SEGMENT_RECIPES_DIR }) => putDefinitions({ url, key, dir, resource: "segments" });

const USAGE = `
Usage: npm run segments:load -- [dir] [--url <url>] [--key <admin key>]

Loads segment definitions from JSON files, one segment per file, its id the file name
(default dir: src/segments/recipes, the shipped segments).
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const dir = positional()[0] ? path.resolve(positional()[0]) : SEGMENT_RECIPES_DIR;
  for (const r of await loadSegments({ url, key, dir })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
