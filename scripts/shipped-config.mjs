// What `npm start` configures on a fresh server, in one place, so that `npm run bench` measures
// the same: the trigger recipes (their destination pointed at a local receiver), the shipped
// segments, the demo storefront's tracking plan, the demo content blocks, the demo experiment, the
// shipped alert rules (notifying the same receiver) and the demo catalog.
import { demoCatalog } from "./demo-data.mjs";
import { loadAlerts } from "./load-alerts.mjs";
import { loadBlocks } from "./load-blocks.mjs";
import { loadExperiments } from "./load-experiments.mjs";
import { loadSegments } from "./load-segments.mjs";
import { loadTrackingPlans } from "./load-tracking-plans.mjs";
import { loadTriggers } from "./load-triggers.mjs";

/**
 * Loads the shipped configuration through the admin API; returns what was loaded. `localDemo`
 * drops the recipes' quiet hours (the local demo delivers at any hour) and lowers the quarantine
 * alert to one refused message (the demo's three fire it).
 */
export async function configureShipped({ url, adminKey, destination, localDemo = true }) {
  const triggers = await loadTriggers({ url, key: adminKey, destination, localDemo });
  const segments = await loadSegments({ url, key: adminKey });
  const plans = await loadTrackingPlans({ url, key: adminKey });
  const blocks = await loadBlocks({ url, key: adminKey });
  // After the blocks it splits: an experiment names published blocks.
  const experiments = await loadExperiments({ url, key: adminKey });
  const headers = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  // The shipped alert rules, notifying the same local receiver as the triggers.
  const alerts = await loadAlerts({ url, key: adminKey, destination, localDemo });
  const catalog = await fetch(`${url}/v1/catalog/products`, { method: "POST", headers, body: JSON.stringify(demoCatalog()) });
  if (!catalog.ok) throw new Error(`Loading the demo catalog failed: ${catalog.status} ${await catalog.text()}`);
  return { triggers, segments, plans, blocks, experiments, alerts };
}
