// `npm start`: the whole system locally on workerd, with local D1, KV, Queues, R2 and Durable
// Objects persisted in .wrangler/state. Applies migrations, seeds the demo keys, loads the trigger
// recipes (pointed at a local webhook receiver that prints what it gets), the shipped segments,
// the demo storefront's tracking plan and the demo content
// blocks and catalog, sends the demo customers' events and a simulated shop's traffic around them,
// prints the URLs.
import { applyMigrationsAndSeedKeys, DEMO_KEYS, startDev } from "./local.mjs";
import { answerHelp } from "./cli-args.mjs";
import { demoBatch, demoRefused } from "./demo-data.mjs";
import { configureShipped } from "./shipped-config.mjs";
import { startReceiver } from "./webhook-receiver.mjs";
import { runSimulation } from "./simulate.mjs";
import { describeResults, runExperimentDemo } from "./experiment-demo.mjs";
import { describeReport, describeSurvey, loadDemoSurvey, runEngagementDemo } from "./engagement-demo.mjs";

answerHelp(`
Usage: npm start

Starts the whole system locally on workerd: applies the D1 migrations, seeds the demo keys, loads
the trigger recipes (pointed at a local webhook receiver), the shipped segments, the demo tracking
plan, content blocks and catalog, sends the demo customers and a simulated shop's traffic (once),
and prints the URLs. State is kept in .wrangler/state.
  PORT=<n>           serve on 127.0.0.1:<n> (default 8787); the CLI and scripts follow PORT too
  RECEIVER_PORT=<n>  the local webhook receiver's port (default 8789)
  RAPPORT_STATE_DIR=<dir>  keep the local state there instead of .wrangler/state
`);

const port = Number(process.env.PORT || 8787);
// RAPPORT_STATE_DIR: another state than the developer's (the console's browser test starts its own).
const stateDir = process.env.RAPPORT_STATE_DIR || ".wrangler/state";

console.log("Applying D1 migrations and seeding the demo keys…");
applyMigrationsAndSeedKeys(stateDir);

const receiverPort = Number(process.env.RECEIVER_PORT ?? 8789);
const receiver = await startReceiver({ port: receiverPort, secret: "whsec_local_demo", print: true });
// Alert notifications link to the console where this server really is (PUBLIC_URL), whatever PORT says.
const dev = await startDev({ port, stateDir, vars: [`PUBLIC_URL:http://127.0.0.1:${port}`] });
const { url } = dev;
const stop = async () => {
  await dev.stop();
  await receiver.close();
  process.exit(0);
};
// wrangler dev runs no cron: npm start fires the every-minute cron (alerts) and the ten-minute one
// (experiments' checks, the send-time curve) itself, through the dev server's scheduled hook. The
// daily ones (retention, passes) run when you call it: curl '<url>/cdn-cgi/local/scheduled?cron=17+3+*+*+*'.
let cronMinutes = 0;
const fireCron = (cron) => fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`).catch(() => {});
const cronTimer = setInterval(() => {
  cronMinutes++;
  fireCron("* * * * *");
  if (cronMinutes % 10 === 0) fireCron("*/10 * * * *");
}, 60_000);
cronTimer.unref();
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.child.on("exit", (code) => process.exit(code ?? 1));

// Without quiet hours, so that the demo's deliveries show at any hour (docs/triggers.md).
const shipped = await configureShipped({ url, adminKey: DEMO_KEYS.admin, destination: `${receiver.url}/webhooks/rapport`, localDemo: true });
console.log(`Trigger recipes loaded: ${shipped.triggers.map((t) => t.id).join(", ")} (without their quiet hours: the local demo delivers at any hour)`);
console.log(`Segments loaded: ${shipped.segments.map((s) => s.id).join(", ")}`);
console.log(`Tracking plans loaded: ${shipped.plans.map((p) => p.id).join(", ")} (the demo write key's events are checked; violations flagged)`);
console.log(`Content blocks published: ${shipped.blocks.map((b) => b.id).join(", ")}; demo catalog loaded`);
console.log(`Alert rules loaded: ${shipped.alerts.map((a) => a.id).join(", ")} (notifying the local receiver; the quarantine rule fires at one refused message here)`);
console.log(`Experiments: ${shipped.experiments.map((e) => `${e.id} (${e.status === "kept" ? "kept as it is" : "created, running"})`).join(", ")}`);
const adminHeaders = { authorization: `Bearer ${DEMO_KEYS.admin}`, "content-type": "application/json" };

const auth = { authorization: `Basic ${btoa(`${DEMO_KEYS.write}:`)}`, "content-type": "application/json" };
const ingest = await fetch(`${url}/v1/batch`, { method: "POST", headers: auth, body: JSON.stringify(demoBatch()) });
if (!ingest.ok) throw new Error(`Seeding demo events failed: ${ingest.status} ${await ingest.text()}`);
// The queue consumer runs asynchronously: wait for the demo profile to appear.
let ready = false;
for (let i = 0; i < 80 && !ready; i++) {
  const res = await fetch(`${url}/v1/customers/demo-ada`, { headers: { authorization: `Bearer ${DEMO_KEYS.read}` } });
  ready = res.ok;
  if (!ready) await new Promise((r) => setTimeout(r, 250));
}
if (!ready) throw new Error("The demo profile did not appear: check the consumer logs above");

// A simulated shop around the demo customers (`npx rapport simulate`, docs/simulate.md): enough
// history for segments, scores and `npm run train` to show something. Sent once: on later starts
// the population is there already (its message ids would collide with a shifted history).
const SIMULATED = { customers: 300, days: 90, seed: 7, prefix: "demo-sim" };
const simulatedAlready = await fetch(`${url}/v1/customers/${encodeURIComponent(`anonymous_id:${SIMULATED.prefix}-anon-0`)}`, { headers: { authorization: `Bearer ${DEMO_KEYS.read}` } });
if (simulatedAlready.ok) console.log(`Simulated shop traffic: already loaded (${SIMULATED.customers} customers, ids ${SIMULATED.prefix}-…).`);
else {
  // With three messages a storefront got wrong: refused (400), each kept in the quarantine with its reason.
  await fetch(`${url}/v1/batch`, { method: "POST", headers: auth, body: JSON.stringify(demoRefused()) });
  const sim = await runSimulation({ ...SIMULATED, url, writeKey: DEMO_KEYS.write });
  console.log(`Simulated shop traffic: ${sim.customers} customers over ${sim.days} days (${sim.messages.toLocaleString("en-US")} events, ${sim.orders} orders, ids ${SIMULATED.prefix}-…) sent in ${sim.seconds.toFixed(1)} s; the pipeline takes them in the background, and their recent carts and views start triggers ([webhook] lines).`);
}
const links = async (block, customer) => (await fetch(`${url}/v1/blocks/${block}/links?customer=${customer}`, { headers: adminHeaders })).json();
const grid = await links("product-grid", "demo-ada");
const cart = await links("cart-reminder", "demo-grace");
await loadDemoSurvey({ url, adminKey: DEMO_KEYS.admin });
const surveyLinks = await (await fetch(`${url}/v1/surveys/nps/links?customer=demo-ada`, { headers: adminHeaders })).json();

console.log(`
Rapport is running on ${url}

  Console        ${url}/console   (sign in with the admin key ${DEMO_KEYS.admin}; docs/console.md)
  Health         ${url}/health
  API docs       ${url}/docs   (OpenAPI: ${url}/openapi.json)
  Ingest         POST ${url}/v1/track | /v1/identify | /v1/page | /v1/batch …   (write key, HTTP Basic)
  Profile        GET  ${url}/v1/customers/demo-ada                              (read key, Bearer)
  Events         GET  ${url}/v1/customers/demo-ada/events
  Admin          GET  ${url}/v1/admin/keys | /v1/admin/quarantine | /v1/admin/dead-letters
  Triggers       GET  ${url}/v1/triggers | /v1/deliveries | /v1/customers/demo-grace/triggers   (admin key)
  Catalog        POST ${url}/v1/catalog/products                                  (admin key)
  Tag            ${url}/tag.js   (the storefront snippet: docs/tag.md)
  Tracking plans GET  ${url}/v1/tracking-plans | /v1/tracking-plans/violations/counts   (admin key)
  Segments       GET  ${url}/v1/segments | /v1/segments/new-prospects/members | /v1/segments/vip/history   (admin key)
  Content        ${url}/preview   (pick a block and a customer; admin key)
                 ${grid.token.html}
                 ${cart.token.png}
                 GET  ${url}/v1/blocks | /v1/blocks/product-grid/links?customer=demo-ada   (admin key)
  Experiments    GET  ${url}/v1/experiments | /v1/experiments/offer-subject/results   (admin key; docs/experiments.md)
  Engagement     GET  ${url}/v1/reports/engagement?by=trigger | ?by=block&format=csv   (admin key; docs/engagement.md)
  Survey         ${surveyLinks.answers?.["9"] ?? "(no content secret: no survey links)"}
                 (demo-ada's answer "9": open it in a browser, then GET /v1/customers/demo-ada shows traits.survey_nps;
                 results: GET ${url}/v1/surveys/nps/results, admin key)
  Webhooks       ${receiver.url}/webhooks/rapport   (local receiver: deliveries are printed as [webhook] lines)

  Demo keys      write ${DEMO_KEYS.write}   read ${DEMO_KEYS.read}   admin ${DEMO_KEYS.admin}

  Try:  curl -s ${url}/v1/customers/demo-ada -H 'Authorization: Bearer ${DEMO_KEYS.read}'

Press Ctrl+C to stop.`);

// The demo experiment, run once in the background (its lines start with [experiment]): simulated
// shoppers open the offer and order more after one variant; the results decide it.
const demoResults = await fetch(`${url}/v1/experiments/offer-subject/results`, { headers: adminHeaders }).then((r) => (r.ok ? r.json() : null));
const experimentDemo = demoResults?.variants.every((v) => v.exposures === 0)
  ? runExperimentDemo({ url, adminKey: DEMO_KEYS.admin, customers: SIMULATED.customers, prefix: SIMULATED.prefix })
      .then((run) => console.log(`[experiment] offer-subject: ${run.shown} simulated shoppers opened the offer, ${run.orders} ordered (planted: control 8 %, urgency 30 %)\n${describeResults(run.results)}`))
      .catch((err) => console.error(`[experiment] the demo experiment did not run: ${err.message}`))
  : Promise.resolve();

// Then simulated email traffic for the engagement reports, once (lines start with [engagement]):
// deliveries, machine and human opens, scanner and human clicks, survey answers, orders.
const engagementDone = await fetch(`${url}/v1/reports/engagement?by=trigger`, { headers: adminHeaders }).then((r) => (r.ok ? r.json() : null));
if (engagementDone && !engagementDone.lines.some((l) => l.key === "post-purchase" && l.delivered > 0)) {
  experimentDemo
    .then(() => runEngagementDemo({ url, adminKey: DEMO_KEYS.admin, prefix: SIMULATED.prefix, customers: 200 }))
    .then((run) =>
      console.log(
        `[engagement] ${run.sent} simulated emails delivered, ${run.opened} opened by people, ${run.orders} orders, ${run.answers} survey answers\n[engagement] by trigger (GET /v1/reports/engagement?by=trigger):\n${describeReport(run.byTrigger, ["cart-abandonment", "post-purchase"])}\n[engagement] by block:\n${describeReport(run.byBlock, ["product-grid", "nps-question"])}\n[engagement] survey (GET /v1/surveys/nps/results):\n${describeSurvey(run.survey)}`,
      ),
    )
    .catch((err) => console.error(`[engagement] the demo email traffic did not run: ${err.message}`));
}
