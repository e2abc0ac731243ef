// `rapport simulate`: a simulated storefront's traffic (tools/sim/, docs/simulate.md), written as
// NDJSON (one Segment message a line, importable with `rapport import --kind events`) or sent
// through the batch API as any SDK would, and its ground truth as JSON.
//
// Shoppers are generated one at a time and written or sent as they come (sending waits for a free
// batch slot before generating on), so memory stays flat for any number of customers. The truth
// file is written as it goes too: only the planted pairs wait in memory for its end.
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { DEFAULTS, simulate } from "../tools/sim/simulate.ts";
import { DAY_MS } from "../tools/sim/season.ts";
import { sendMessages } from "./import.mjs";

/** The default anchor: the start of the current UTC day, so runs on one day are byte-identical. */
export const startOfUtcDay = (t = Date.now()) => Math.floor(t / DAY_MS) * DAY_MS;

/** A file (or `-`, standard output) written line by line, waiting when the stream is full. */
function lineWriter(file) {
  const stream = file === "-" ? process.stdout : createWriteStream(file);
  return {
    async write(text) {
      if (!stream.write(text)) await once(stream, "drain");
    },
    async end() {
      if (stream === process.stdout) return;
      stream.end();
      await once(stream, "finish");
    },
  };
}

/**
 * Runs a simulation. With `out`, writes NDJSON there; otherwise sends to `url` with `writeKey`.
 * With `truth`, writes the ground truth there. Returns the summary.
 * `onProgress({ customers, messages, fraction })` is called after each shopper.
 */
export async function runSimulation({ customers, days, seed = DEFAULTS.seed, now = startOfUtcDay(), prefix, out, truth, url, writeKey, batchSize = 500, concurrency = 4, fetchImpl = fetch, duplicateRate, nearMissRate, onProgress = () => {} }) {
  const started = Date.now();
  const summary = { customers, days, seed, now: new Date(now).toISOString(), futureDays: DEFAULTS.futureDays, messages: 0, orders: 0, signedUp: 0, guests: 0, duplicates: 0, nearMisses: 0, willPurchase30d: 0, churned: 0, withheldMessages: 0 };
  const planted = { duplicates: [], nearMisses: [] };
  const truthFile = truth ? lineWriter(truth) : null;
  const shoppers = simulate({ customers, days, seed, now, prefix, duplicateRate, nearMissRate });
  let done = 0;

  /** Each shopper's messages, counted and their truth written on the way. */
  async function* messages() {
    await truthFile?.write(`{"version":1,"prefix":${JSON.stringify(prefix ?? `sim${seed}`)},"seed":${seed},"now":"${summary.now}","days":${days},"futureDays":${summary.futureDays},"customers":[\n`);
    for (const s of shoppers) {
      await truthFile?.write(`${done > 0 ? ",\n" : ""}${JSON.stringify(s.truth)}`);
      summary.messages += s.messages.length;
      summary.withheldMessages += s.future.length;
      summary.orders += s.truth.orders;
      if (s.truth.userId) summary.signedUp += 1;
      else if (s.truth.email) summary.guests += 1;
      if (s.truth.willPurchase30d) summary.willPurchase30d += 1;
      if (s.truth.churned) summary.churned += 1;
      if (s.duplicate) planted.duplicates.push(s.duplicate);
      if (s.nearMiss) planted.nearMisses.push(s.nearMiss);
      for (const message of s.messages) yield { message };
      done += 1;
      onProgress({ customers: done, messages: summary.messages, fraction: customers > 0 ? done / customers : 1 });
    }
  }

  // Refused messages would be a bug of the simulator: counted, and the first few kept to show.
  const refused = { count: 0, first: [] };
  if (out) {
    const file = lineWriter(out);
    for await (const { message } of messages()) await file.write(`${JSON.stringify(message)}\n`);
    await file.end();
  } else {
    if (!url || !writeKey) throw new Error("simulate needs --out <file>, or a Rapport to send to (--url, --write-key)");
    const onDone = (batch, _id, r) => {
      refused.count += r.length;
      for (const x of r.slice(0, Math.max(0, 3 - refused.first.length))) refused.first.push({ messageId: batch[x.index]?.message.messageId, errors: x.errors });
    };
    await sendMessages(messages(), { url, writeKey, batchSize, concurrency, fetchImpl, onDone });
  }
  summary.duplicates = planted.duplicates.length;
  summary.nearMisses = planted.nearMisses.length;
  if (truthFile) {
    await truthFile.write(`\n],"duplicates":${JSON.stringify(planted.duplicates)},"nearMisses":${JSON.stringify(planted.nearMisses)},"summary":${JSON.stringify(summary)}}\n`);
    await truthFile.end();
  }
  return { ...summary, refused, seconds: (Date.now() - started) / 1000 };
}

const n = (x) => x.toLocaleString("en-US");

/** The lines `rapport simulate` prints. */
export function summaryLines(s, { out, truth, url }) {
  return [
    `Simulated ${n(s.customers)} customers over ${s.days} days up to ${s.now} (seed ${s.seed}): ${n(s.messages)} messages, ${n(s.orders)} orders, ${n(s.signedUp)} signed up, ${n(s.guests)} guests; planted ${n(s.duplicates)} duplicates and ${n(s.nearMisses)} near misses.`,
    out ? `Wrote ${out === "-" ? "standard output" : out}.` : `Sent to ${url} in ${s.seconds.toFixed(1)} s; ${s.refused.count ? `${n(s.refused.count)} refused, first: ${JSON.stringify(s.refused.first)}` : "none refused"}.`,
    `${n(s.withheldMessages)} messages of the next ${s.futureDays} days withheld: ${n(s.willPurchase30d)} customers will order, ${n(s.churned)} will not come back${truth ? ` (ground truth in ${truth})` : ""}.`,
  ];
}
