#!/usr/bin/env node
// The `rapport` command line (`npx rapport <command>`), for operators of a deployment.
//
//   rapport replay --from YYYY-MM-DD --to YYYY-MM-DD [--url https://…] [--key ak_…]
//       Replays the raw event archive (R2) of those days of receipt through the pipeline, and
//       waits for it: rebuilds the profiles into an empty database, or over the existing one
//       (events already held are skipped, erased customers stay erased).
import { parseArgs, target } from "./cli-args.mjs";

const [command, ...rest] = process.argv.slice(2);
const { option } = parseArgs(rest);
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

const commands = { replay };
if (!commands[command]) {
  console.error(`Usage: rapport <${Object.keys(commands).join("|")}> [options]   (see scripts/rapport.mjs)`);
  process.exit(2);
}
await commands[command]().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
