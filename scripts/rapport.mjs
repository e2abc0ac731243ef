#!/usr/bin/env node
// The `rapport` command line (`npx rapport <command>`), for operators of a deployment.
//
//   rapport import <file.csv|file.ndjson> --source <name> [--kind customers|events] [--resume]
//                  [--url https://…] [--write-key wk_…] [--batch 500] [--concurrency 4] [--report file]
//       Imports customers (one per row: userId/user_id/id/customer_id, email, anonymousId,
//       timestamp, messageId, other columns as traits) or events (Segment messages; CSV columns
//       type, event, userId, anonymousId, timestamp, messageId, properties.*, traits.*,
//       context.*) through the batch API. See scripts/import.mjs and docs/sources.md.
//
//   rapport simulate --customers N --days D [--seed S] [--now ISO] [--out events.ndjson|-] [--truth truth.json]
//                    [--url https://…] [--write-key wk_…]
//       Generates a storefront's traffic (anonymous browsing, sign-ups, carts, orders with
//       seasonality, email opens and clicks, churn), deterministic for a seed and --now (default:
//       the start of the current UTC day), with its ground truth (who orders and who is gone in
//       the next 30 days, planted duplicate people). Writes NDJSON with --out, else sends it
//       through the batch API. See scripts/simulate.mjs and docs/simulate.md.
//
//   rapport plans load [dir] [--url https://…] [--key ak_…]
//       Loads tracking plans from JSON files, one per file named after the plan's id (default:
//       src/tracking/plans). A refused file stops the load with its name and the errors. See
//       docs/tracking-plans.md.
//
//   rapport replay --from YYYY-MM-DD --to YYYY-MM-DD [--url https://…] [--key ak_…]
//       Replays the raw event archive (R2) of those days of receipt through the pipeline, and
//       waits for it: rebuilds the profiles into an empty database, or over the existing one
//       (events already held are skipped, erased customers stay erased).
import { parseArgs, target } from "./cli-args.mjs";
import { importFile, progressLine } from "./import.mjs";
import { runSimulation, startOfUtcDay, summaryLines } from "./simulate.mjs";
import { loadTrackingPlans, TRACKING_PLANS_DIR } from "./load-tracking-plans.mjs";

const [command, ...rest] = process.argv.slice(2);
const { option, flag, positional } = parseArgs(rest);
const { url, key } = target(option);
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };

async function replay() {
  const from = option("from");
  const to = option("to") ?? from;
  if (!from) throw new Error("replay needs --from YYYY-MM-DD (and --to, default: the same day)");
  const res = await fetch(`${url}/v1/admin/archive/replays`, { method: "POST", headers, body: JSON.stringify({ from, to }) });
  const started = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${started.detail ?? ""} ${JSON.stringify(started.errors ?? [])}`);
  console.log(`Replay ${started.id}: ${from} to ${to}`);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await (await fetch(`${url}/v1/admin/archive/replays/${started.id}`, { headers })).json();
    process.stdout.write(`\r  ${r.objects} objects, ${r.events} events sent to the pipeline`);
    if (r.finishedAt) {
      console.log(`\nDone at ${r.finishedAt}. The pipeline processes them within seconds; events it already holds are skipped.`);
      return;
    }
  }
}

async function runImport() {
  const source = option("source");
  const kind = option("kind") ?? "events";
  const writeKey = option("write-key") ?? process.env.RAPPORT_WRITE_KEY ?? "wk_local_demo";
  const batchSize = Number(option("batch") ?? 500);
  const concurrency = Number(option("concurrency") ?? 4);
  const report = option("report");
  const resume = flag("resume");
  const [file] = positional();
  if (!file) throw new Error("import needs a file: rapport import <file.csv|file.ndjson> --source <name>");
  const tty = process.stderr.isTTY;
  const result = await importFile({
    file,
    source,
    kind,
    url,
    writeKey,
    batchSize,
    concurrency,
    resume,
    report,
    onProgress: (p) => process.stderr.write(tty ? `\r${progressLine(p)}` : `${progressLine(p)}\n`),
  }).catch((err) => {
    process.stderr.write("\n");
    if (err.stats) console.error(`Stopped after ${err.stats.rows} rows; run again with --resume to go on.`);
    throw err;
  });
  process.stderr.write("\n");
  console.log(`Imported ${result.sent} rows in ${result.seconds.toFixed(1)} s${result.resumedAfter ? ` (resumed after row ${result.resumedAfter})` : ""}; ${result.rejected} rejected${result.report ? `, listed in ${result.report}` : ""}.`);
}

async function runSimulate() {
  const whole = (name, fallback) => {
    const text = option(name) ?? fallback;
    if (text === undefined || !/^\d+$/.test(text)) throw new Error(`simulate needs --${name} <whole number>: rapport simulate --customers N --days D [--seed S]`);
    return Number(text);
  };
  const customers = whole("customers");
  const days = whole("days");
  const seed = whole("seed", "1");
  const nowText = option("now");
  const now = nowText === undefined ? startOfUtcDay() : Date.parse(nowText);
  if (Number.isNaN(now)) throw new Error(`--now ${nowText} is not an ISO date-time`);
  const out = option("out");
  const truth = option("truth");
  if (out === "-" && truth === "-") throw new Error("--out and --truth cannot both be standard output");
  const writeKey = option("write-key") ?? process.env.RAPPORT_WRITE_KEY ?? "wk_local_demo";
  // With NDJSON on standard output, everything else goes to standard error.
  const say = out === "-" ? console.error : console.log;
  const tty = process.stderr.isTTY && out !== "-";
  const result = await runSimulation({
    customers,
    days,
    seed,
    now,
    out,
    truth,
    url,
    writeKey,
    onProgress: tty ? (p) => p.customers % 100 === 0 && process.stderr.write(`\r  ${Math.round(p.fraction * 100)}%  ${p.customers.toLocaleString("en-US")} customers  ${p.messages.toLocaleString("en-US")} messages`) : undefined,
  });
  if (tty) process.stderr.write("\n");
  for (const line of summaryLines(result, { out, truth, url })) say(line);
  if (result.refused.count > 0) process.exitCode = 1;
}

async function plans() {
  const [sub, dir] = positional();
  if (sub !== "load") throw new Error("usage: rapport plans load [dir] --url … --key ak_…");
  for (const r of await loadTrackingPlans({ url, key, dir: dir ?? TRACKING_PLANS_DIR })) console.log(`${r.id}: ${r.status} (version ${r.version})`);
}

const commands = { import: runImport, simulate: runSimulate, plans, replay };
if (!commands[command]) {
  console.error(`Usage: rapport <${Object.keys(commands).join("|")}> [options]   (see scripts/rapport.mjs)`);
  process.exit(2);
}
await commands[command]().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
