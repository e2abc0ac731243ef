// Moves a range of slots from one D1 shard to another through the admin API (docs/scaling.md,
// "Moving slots"): how a deployment from before shards spreads over two databases, and how any
// deployment adds a shard. Two runs, with a deploy between them:
//
//   npm run shards:move -- --from DB --to SHARD_1 --slots 512-1023 [--env production] [--url … --key …]
//     pauses the events queues' delivery (with --env), starts the move, waits until it is copied
//     and verified, and prints the SHARDS value to deploy;
//   npm run shards:move -- --finish <move id> [--env production] [--url … --key …]
//     once that SHARDS is deployed: deletes the source's copies, waits for the end, resumes delivery.
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { answerHelp, parseArgs, TARGET_HELP, target } from "./cli-args.mjs";

const USAGE = `
Usage: npm run shards:move -- --from <binding> --to <binding> --slots <from-to> [--env <name>]
       npm run shards:move -- --finish <move id> [--env <name>]

Moves the rows of a range of slots between D1 shards, online: ingest keeps accepting events
(they wait on the queue), profile writers wait, reads go on. The first run copies and verifies
(counts per table, a digest of every customer's version) and prints the SHARDS value to deploy;
the second, after that deploy, deletes the source's copies.
  --env <name>       the wrangler environment (production, staging): its events queues' delivery
                     is paused during the move and resumed at the end (not for local runs)
${TARGET_HELP}
`;

async function call(url, key, path, init = {}) {
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${body.detail ?? JSON.stringify(body)}`);
  return body;
}

/** Pauses or resumes the delivery of every events queue the deployment names (GET /v1/admin/shards). */
function delivery(env, action, queues) {
  if (!env) return;
  for (const queue of queues) {
    console.log(`${action === "pause" ? "Pausing" : "Resuming"} delivery of ${queue}…`);
    const run = spawnSync("npx", ["wrangler", "queues", `${action}-delivery`, queue], { stdio: "inherit" });
    if (run.status !== 0) throw new Error(`wrangler queues ${action}-delivery ${queue} failed`);
  }
}

/** Polls the move until it reaches one of `states`; prints its progress as it changes. */
export async function waitFor({ url, key, id, states, intervalMs = 2000, timeoutMs = 6 * 3600_000, print = console.log }) {
  const started = Date.now();
  let last = "";
  for (;;) {
    const move = await call(url, key, `/v1/admin/shards/moves/${id}`);
    const line = `${move.state}${move.table ? ` (${move.table})` : ""}: ${Object.entries(move.copied).map(([t, n]) => `${t} ${n}`).join(", ") || "nothing copied yet"}`;
    if (line !== last) print(line);
    last = line;
    if (states.includes(move.state)) return move;
    if (move.state === "failed") throw new Error(`The move failed: ${move.error}`);
    if (Date.now() - started > timeoutMs) throw new Error(`The move is still ${move.state} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The SHARDS value once `range` of `from` is on `to`. */
export function nextShards(ranges, move) {
  const [a, b] = move.slots.split("-").map(Number);
  const bySlot = [];
  for (const r of ranges) {
    const [x, y] = r.slots.split("-").map(Number);
    for (let s = x; s <= y; s++) bySlot[s] = r.binding;
  }
  for (let s = a; s <= b; s++) bySlot[s] = move.to;
  const out = [];
  for (let s = 0; s < bySlot.length; ) {
    let e = s;
    while (e + 1 < bySlot.length && bySlot[e + 1] === bySlot[s]) e++;
    out.push(`${bySlot[s]}:${s}-${e}`);
    s = e + 1;
  }
  return out.join(",");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  answerHelp(USAGE);
  const { option } = parseArgs();
  const { url, key } = target(option);
  const env = option("env");
  const finish = option("finish");
  if (finish) {
    await call(url, key, `/v1/admin/shards/moves/${finish}/finish`, { method: "POST" });
    const move = await waitFor({ url, key, id: finish, states: ["finished"] });
    const { eventQueues } = await call(url, key, "/v1/admin/shards");
    delivery(env, "resume", eventQueues);
    console.log(`Move ${move.id} finished: slots ${move.slots} are on ${move.to} only.`);
  } else {
    const [from, to, slots] = [option("from"), option("to"), option("slots")];
    if (!from || !to || !slots) {
      console.error(USAGE.trim());
      process.exit(2);
    }
    const { ranges, eventQueues } = await call(url, key, "/v1/admin/shards");
    delivery(env, "pause", eventQueues);
    const started = await call(url, key, "/v1/admin/shards/moves", { method: "POST", body: JSON.stringify({ from, to, slots }) });
    console.log(`Move ${started.id}: slots ${slots} from ${from} to ${to}.`);
    const move = await waitFor({ url, key, id: started.id, states: ["copied"] });
    console.log(`Copied and verified: ${JSON.stringify(move.verification.target.tables)}`);
    console.log(`\nNow set, in wrangler.toml${env ? ` [env.${env}]` : ""}:\n  SHARDS = "${nextShards(ranges, move)}"\ndeploy, then run:\n  npm run shards:move -- --finish ${move.id}${env ? ` --env ${env}` : ""}`);
  }
}
