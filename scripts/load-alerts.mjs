// Loads alert rules from JSON files through the admin API: one rule per file, its id the file
// name. The shipped rules (src/alerts/recipes/) page PagerDuty with the routing key in the Worker
// secret PAGERDUTY_ROUTING_KEY; edit their destinations, or pass --destination.
//
//   node scripts/load-alerts.mjs [dir] --url https://rapport.example.com --key ak_… [--destination https://…]
//
// --destination replaces every rule's destinations with one signed webhook to that URL.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { putDefinitions } from "./load-definitions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ALERT_RECIPES_DIR = path.join(ROOT, "src", "alerts", "recipes");

/**
 * PUTs every `*.json` of `dir`; returns [{ id, status, version }]. `localDemo` (npm start) lowers
 * the quarantine rule to one refused message, so that the demo's three refused messages show an
 * alert firing, and resolving an hour later.
 */
export async function loadAlerts({ url, key, dir = ALERT_RECIPES_DIR, destination, localDemo = false }) {
  const transform = (rule) => {
    const sent = destination ? { ...rule, destinations: [{ type: "webhook", url: destination }] } : rule;
    return localDemo && rule.metric === "quarantined" ? { ...sent, threshold: 1 } : sent;
  };
  return putDefinitions({ url, key, dir, resource: "alerts/rules", transform });
}

const USAGE = `
Usage: npm run alerts:load -- [dir] [--url <url>] [--key <admin key>] [--destination <url>]

Loads alert rules from JSON files, one rule per file, its id the file name (default dir:
src/alerts/recipes, the shipped rules, which page PagerDuty through the Worker secret
PAGERDUTY_ROUTING_KEY).
  --destination <url>  replaces every rule's destinations with a signed webhook to that URL
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option, positional } = parseArgs();
  const { url, key } = target(option);
  const destination = option("destination");
  const dir = positional()[0] ? path.resolve(positional()[0]) : ALERT_RECIPES_DIR;
  for (const r of await loadAlerts({ url, key, dir, destination })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}
