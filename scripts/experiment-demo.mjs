// `npm run experiment:demo`: the demo experiment (src/experiments/recipes/offer-subject.json) run
// end to end against a running Rapport, with a planted effect to find. For each simulated shopper
// (`npm start`'s population, ids demo-sim-anon-<i>): the ESP's send-time fetch of the offer's JSON
// (which names the variant), a person's open of the email (the open pixel, a phone's user agent),
// then, once the exposures are counted, an order with a chance that depends on the variant seen
// (control 8 %, urgency 30 % unless told otherwise). Finally the results as the API gives them.
// Everything goes through the public endpoints (docs/experiments.md).
//
//   node scripts/experiment-demo.mjs [--customers 300] [--rates 0.08,0.3] [--url …] [--key …]
import { pathToFileURL } from "node:url";
import { random } from "../tools/sim/random.ts";
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { DEMO_KEYS } from "./local.mjs";
import { waitFor } from "./wait-for.mjs";

const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

/** Runs the demo; returns the results body and what was sent. */
export async function runExperimentDemo({ url, adminKey, writeKey = DEMO_KEYS.write, experiment = "offer-subject", block = "offer", prefix = "demo-sim", customers = 300, rates = { control: 0.08, urgency: 0.3 }, seed = 24, waitSeconds = 120 }) {
  const admin = { authorization: `Bearer ${adminKey}` };
  const write = { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" };
  const next = random(seed);
  const shown = [];
  // The simulation may have been sent a moment ago: wait until the pipeline has its last shopper.
  const linksOf = (i) => fetch(`${url}/v1/blocks/${block}/links?customer=${encodeURIComponent(`anonymous_id:${prefix}-anon-${i}`)}`, { headers: admin });
  await waitFor(async () => (await linksOf(customers - 1)).ok, waitSeconds * 3);
  for (let i = 0; i < customers; i++) {
    const anonymousId = `${prefix}-anon-${i}`;
    const links = await linksOf(i);
    if (!links.ok) continue;
    const { token } = await links.json();
    const json = await (await fetch(token.json)).json();
    if (!json.experiment) continue; // declined personalization: no experiment, no exposure
    await fetch(json.experiment.pixel_url, { headers: { "user-agent": PHONE } });
    shown.push({ anonymousId, variant: json.experiment.variant });
  }
  const results = () => fetch(`${url}/v1/experiments/${experiment}/results`, { headers: admin }).then((r) => r.json());
  const exposures = (r) => r.variants?.reduce((n, v) => n + v.exposures, 0) ?? 0;
  // Orders only once the exposures are counted: an order applied before its exposure is not credited.
  await waitFor(async () => exposures(await results()) >= shown.length, waitSeconds);
  const orders = shown.filter((s) => next() < (rates[s.variant] ?? 0));
  const batch = orders.map((s, i) => ({ type: "track", event: "Order Completed", anonymousId: s.anonymousId, messageId: `${prefix}-${experiment}-order-${i}`, properties: { order_id: `${prefix}-${experiment}-${i}`, revenue: 40 } }));
  for (let i = 0; i < batch.length; i += 100) {
    const res = await fetch(`${url}/v1/batch`, { method: "POST", headers: write, body: JSON.stringify({ batch: batch.slice(i, i + 100) }) });
    if (!res.ok) throw new Error(`orders: ${res.status} ${await res.text()}`);
  }
  const conversions = (r) => r.variants?.reduce((n, v) => n + v.conversions, 0) ?? 0;
  const final = await waitFor(async () => {
    const r = await results();
    return conversions(r) >= orders.length ? r : null;
  }, waitSeconds);
  return { shown: shown.length, orders: orders.length, results: final ?? (await results()) };
}

/** One line per variant, then the decision. */
export function describeResults(r) {
  const lines = r.variants.map((v) => `  ${v.variant.padEnd(10)} ${String(v.exposures).padStart(5)} exposed  ${String(v.conversions).padStart(4)} orders  ${(v.conversionRate * 100).toFixed(1).padStart(5)} %${v.effect ? `  effect ${(v.effect.effect * 100).toFixed(1)} pts [${(v.effect.interval[0] * 100).toFixed(1)}, ${(v.effect.interval[1] * 100).toFixed(1)}]` : ""}`);
  return [...lines, `  decision: ${r.decision.state}${r.decision.winner ? ` (${r.decision.winner})` : ""} — ${r.decision.rule}`].join("\n");
}

const USAGE = `
Usage: npm run experiment:demo -- [--customers 300] [--rates 0.08,0.3] [--url <url>] [--key <admin key>]

Runs the demo experiment (offer-subject) on the simulated shoppers of npm start: send-time
fetches, a person's opens (the open pixel), orders with a planted rate per variant (control,
urgency), then prints the results as GET /v1/experiments/offer-subject/results gives them.
${TARGET_HELP}
`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option } = parseArgs();
  const { url, key } = target(option);
  const [control, urgency] = (option("rates") ?? "0.08,0.3").split(",").map(Number);
  const run = await runExperimentDemo({ url, adminKey: key, customers: Number(option("customers") ?? 300), rates: { control, urgency } });
  console.log(`${run.shown} shoppers opened the offer, ${run.orders} ordered:\n${describeResults(run.results)}`);
}
