// Loads tracking plans from JSON files through the admin API: one plan per file, its id the file
// name (src/tracking/plans/ holds the demo storefront's). Keep your plans in your repository and
// load them from CI, so a plan change is reviewed like code.
//
//   node scripts/load-tracking-plans.mjs [dir] --url https://rapport.example.com --key ak_…
//   npx rapport plans load [dir] …
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { putDefinitions } from "./load-definitions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const TRACKING_PLANS_DIR = path.join(ROOT, "src", "tracking", "plans");

export const loadTrackingPlans = ({ url, key, dir = TRACKING_PLANS_DIR }) => putDefinitions({ url, key, dir, resource: "tracking-plans" });

const USAGE = `
Usage: npm run plans:load -- [dir] [--url <url>] [--key <admin key>]
       npx rapport plans load [dir] [--url <url>] [--key <admin key>]

Loads tracking plans from JSON files, one plan per file named after the plan's id
(default dir: src/tracking/plans, the demo storefront's).
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const dir = positional()[0] ? path.resolve(positional()[0]) : TRACKING_PLANS_DIR;
  for (const r of await loadTrackingPlans({ url, key, dir })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
