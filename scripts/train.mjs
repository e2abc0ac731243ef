// Trains the predictive models (purchase in the next 30 days, churn) from the stored history of a
// running Rapport, prints AUC and calibration on a held-out period, and publishes them.
//
//   npm run train -- [--url http://127.0.0.1:8787] [--key ak_…] [--horizon 30] [--dry-run]
//                    [--generate 2000 --seed 1 --write-key wk_…]
//
// Time split: the models learn from the customers as they were `2 × horizon` days ago (labels: the
// following `horizon` days) and are measured on them as they were `horizon` days ago (labels: the
// last `horizon` days), a period they never saw. --generate first sends a simulated shop's history
// of N customers over 150 days (tools/sim/, `rapport simulate`) through the batch API, for an empty
// install.
import { answerHelp, parseArgs, target, TARGET_HELP } from "./cli-args.mjs";
import { collectRows, trainModel } from "../src/models/training.ts";
import { runSimulation, startOfUtcDay } from "./simulate.mjs";
import { simulate } from "../tools/sim/simulate.ts";

answerHelp(`
Usage: npm run train -- [--url <url>] [--key <admin key>] [--horizon 30] [--dry-run]
                        [--generate N --seed 1 --write-key wk_…]

Trains the purchase and churn models from the stored history of a running Rapport, prints their
AUC and calibration on a held-out period, and publishes them (docs/predictions.md).
  --horizon <days>   the prediction window (default 30)
  --dry-run          train and report, publish nothing
  --generate <N>     first send a simulated shop's history of N customers over 150 days
  --seed <S>         the simulation's seed (default 1)
  --write-key <key>  the write key to send it with (default: RAPPORT_WRITE_KEY, else wk_local_demo)
${TARGET_HELP}
`);

const DAY = 86_400_000;
const { option, flag } = parseArgs();
const { url, key } = target(option);
const horizon = Number(option("horizon") ?? 30);
const generate = Number(option("generate") ?? 0);
const seed = Number(option("seed") ?? 1);
const writeKey = option("write-key") ?? process.env.RAPPORT_WRITE_KEY ?? "wk_local_demo";
const dryRun = flag("dry-run");
const admin = (path, init = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers } });

async function sendGenerated() {
  const options = { customers: generate, days: 150, seed, now: startOfUtcDay() };
  const sent = await runSimulation({ ...options, url, writeKey });
  if (sent.refused.count > 0) throw new Error(`The batch API refused ${sent.refused.count} generated messages, first: ${JSON.stringify(sent.refused.first)}`);
  // The pipeline is asynchronous: wait until the last shopper's profile has all their messages
  // (the simulator is deterministic, so generating them again gives the same ones).
  let last;
  for (const s of simulate({ ...options, customers: generate })) last = s;
  const mine = (m) => m.anonymousId === last.truth.anonymousId || (last.truth.userId !== null && m.userId === last.truth.userId);
  const expected = last.messages.filter(mine).length;
  const ref = last.truth.userId ?? `anonymous_id:${last.truth.anonymousId}`;
  for (let i = 0; i < 600; i++) {
    const res = await admin(`/v1/customers/${encodeURIComponent(ref)}`);
    if (res.ok && (await res.json()).eventCount >= expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`Sent a simulated shop's history: ${generate} customers, ${sent.messages} messages, ${sent.orders} orders (seed ${seed}).`);
}

async function trainingSet(cutoff) {
  return collectRows(async (after) => {
    const res = await admin(`/v1/admin/models/training-set?cutoff=${new Date(cutoff).toISOString()}&horizonDays=${horizon}&limit=500&after=${encodeURIComponent(after)}`);
    if (!res.ok) throw new Error(`Reading the training set failed: ${res.status} ${await res.text()}`);
    return res.json();
  });
}

if (generate > 0) await sendGenerated();
const now = Date.now();
const cutoffs = { train: now - 2 * horizon * DAY, holdout: now - horizon * DAY };
const [trainRows, holdoutRows] = await Promise.all([trainingSet(cutoffs.train), trainingSet(cutoffs.holdout)]);
console.log(`Training set: ${trainRows.length} customers as of ${new Date(cutoffs.train).toISOString().slice(0, 10)}; held out: ${holdoutRows.length} as of ${new Date(cutoffs.holdout).toISOString().slice(0, 10)}.`);
for (const name of ["purchase_30d", "churn_30d"]) {
  const trained = trainModel(name, trainRows, holdoutRows, cutoffs, now);
  const m = trained.upload.metrics;
  console.log(`\n${name}: held-out AUC ${m.auc.toFixed(3)}  (${m.trainRows} training rows, ${m.holdoutRows} held out, base rate ${(m.positiveRate * 100).toFixed(1)}%)`);
  console.log("  score bin    customers   mean score   observed rate");
  for (const b of trained.calibration) console.log(`  ${(b.bin / 10).toFixed(1)}–${((b.bin + 1) / 10).toFixed(1)}   ${String(b.n).padStart(9)}   ${b.predicted.toFixed(3).padStart(10)}   ${b.observed.toFixed(3).padStart(13)}`);
  if (dryRun) continue;
  const res = await admin(`/v1/admin/models/${name}`, { method: "PUT", body: JSON.stringify(trained.upload) });
  if (!res.ok) throw new Error(`Publishing ${name} failed: ${res.status} ${await res.text()}`);
  console.log(`  published as version ${(await res.json()).version}`);
}
