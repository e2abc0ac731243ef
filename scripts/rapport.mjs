#!/usr/bin/env node
// The `rapport` command line (`npx rapport <command>`), for operators of a deployment. Each
// command's usage is below (USAGES); `rapport <command> --help` prints it.
import { parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { importFile, progressLine } from "./import.mjs";
import { runSimulation, startOfUtcDay, summaryLines } from "./simulate.mjs";
import { loadTrackingPlans, TRACKING_PLANS_DIR } from "./load-tracking-plans.mjs";

const WRITE_KEY_HELP = "  --write-key <key>  a write key (default: RAPPORT_WRITE_KEY, else the local demo's wk_local_demo)";

const USAGES = {
  import: `
Usage: rapport import <file.csv|file.ndjson> --source <name> [--kind customers|events] [--resume]
                      [--url <url>] [--write-key <key>] [--batch 500] [--concurrency 4] [--report <file>]

Imports customers (one per row: userId/user_id/id/customer_id, email, anonymousId, timestamp,
messageId, other columns as traits) or events (Segment messages; CSV columns type, event, userId,
anonymousId, timestamp, messageId, properties.*, traits.*, context.*) through the batch API.
Streaming and resumable; refused rows are listed in a report (docs/sources.md).
  --source <name>    names the import (message ids derive from it: a row sent twice counts once)
  --kind <kind>      customers or events (default events)
  --resume           go on from the checkpoint an interrupted import left
  --batch <n>        rows per request (default 500); --concurrency <n> requests at once (default 4)
  --report <file>    where refused rows are listed (default: beside the file)
  --url <url>        the Rapport to call (default: RAPPORT_URL, else http://127.0.0.1:$PORT, PORT 8787)
${WRITE_KEY_HELP}`,
  simulate: `
Usage: rapport simulate --customers N --days D [--seed S] [--now ISO] [--out events.ndjson|-] [--truth truth.json]
                        [--url <url>] [--write-key <key>]

Generates a storefront's traffic (anonymous browsing, sign-ups, carts, orders with seasonality,
email opens and clicks, churn), deterministic for a seed and --now (default: the start of the
current UTC day), with its ground truth (who orders and who is gone in the next 30 days, planted
duplicate people). Writes NDJSON with --out, else sends it through the batch API (docs/simulate.md).
  --url <url>        the Rapport to call (default: RAPPORT_URL, else http://127.0.0.1:$PORT, PORT 8787)
${WRITE_KEY_HELP}`,
  plans: `
Usage: rapport plans load [dir] [--url <url>] [--key <admin key>]

Loads tracking plans from JSON files, one per file named after the plan's id (default:
src/tracking/plans). A refused file stops the load with its name and the errors
(docs/tracking-plans.md).
${TARGET_HELP}`,
  replay: `
Usage: rapport replay --from YYYY-MM-DD [--to YYYY-MM-DD] [--url <url>] [--key <admin key>]

Replays the raw event archive (R2) of those days of receipt through the pipeline, and waits for
it: rebuilds the profiles into an empty database, or over the existing one (events already held
are skipped, erased customers stay erased) (docs/archive.md).
${TARGET_HELP}`,
};

const OVERVIEW = `
Usage: rapport <command> [options]

Commands:
  import     bulk-import customers or events from CSV or NDJSON
  simulate   generate a storefront's traffic, as NDJSON or sent to a Rapport
  plans      load tracking plans from files (rapport plans load)
  replay     replay the raw event archive through the pipeline

rapport <command> --help prints a command's options. The URL defaults to RAPPORT_URL, else
http://127.0.0.1:$PORT (PORT 8787).`;

const [command, ...rest] = process.argv.slice(2);
const wantsHelp = rest.includes("--help") || rest.includes("-h");
if (command === undefined || command === "--help" || command === "-h" || command === "help") {
  console.log(OVERVIEW.trim());
  process.exit(command === undefined ? 2 : 0);
}
if (!USAGES[command]) {
  console.error(`rapport: unknown command "${command}"\n\n${OVERVIEW.trim()}`);
  process.exit(2);
}
if (wantsHelp) {
  console.log(USAGES[command].trim());
  process.exit(0);
}
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
await commands[command]().catch((err) => {
  console.error(`${err.message}\n(rapport ${command} --help for its options)`);
  process.exit(1);
});
