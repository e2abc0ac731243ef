// `rapport import <file> --source <name>`: a bulk import of customers or events from CSV or NDJSON
// through the batch API, as any SDK sends them (write key), so the pipeline does what it always
// does: validation, quarantine, deduplication, identity, profiles.
//
// - Streams the file: memory stays flat whatever its size (rows are read as batches are sent; at
//   most `concurrency` batches in flight, and reading waits for a free slot).
// - Each row's messageId is `import-<source>-<file fingerprint>-<row>` unless the row has one:
//   sending a row twice (a retry, a resumed import) counts once.
// - Retries 5xx answers and network errors with exponential backoff; a 4xx that is not about the
//   rows stops the import.
// - Resume: a checkpoint beside the file (`<file>.rapport-import.json`) records the rows sent (up
//   to the first unfinished batch); `--resume` starts after them.
// - Rows refused (bad JSON, invalid messages) are written with the reason to the report
//   (`<file>.rejected.ndjson`), and the API keeps the invalid messages in its quarantine too.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, openSync, readSync, closeSync, readFileSync, statSync, writeFileSync, appendFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse";
import { parseJsonExact } from "../src/model/exact-json.ts";

const MAX_BATCH_BYTES = 450 * 1024;

/** A stable name for the file's rows: its size and first 64 KB. */
export function fingerprint(file) {
  const fd = openSync(file, "r");
  const head = Buffer.alloc(65_536);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  return createHash("sha256").update(String(statSync(file).size)).update(head.subarray(0, n)).digest("hex").slice(0, 12);
}

/** `{ "traits.plan": "pro", "properties.price": "9" }` → nested objects. CSV values stay strings except in known numeric spots. */
function nest(flat) {
  const out = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value === "" || value === undefined) continue;
    const parts = key.split(".");
    let at = out;
    for (const p of parts.slice(0, -1)) at = at[p] ??= {};
    at[parts.at(-1)] = value;
  }
  return out;
}

const numeric = (v) => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);
const ID_COLUMNS = ["userId", "user_id", "id", "customer_id"];

/** One row as a Segment message. */
export function messageOf(row, { kind, source, fp, rowNumber, csv }) {
  const base = { context: { library: { name: "rapport-import" }, importSource: source } };
  let message;
  if (kind === "customers") {
    const fields = csv ? nest(row) : row;
    const traits = fields.traits ?? Object.fromEntries(Object.entries(fields).filter(([k]) => ![...ID_COLUMNS, "anonymousId", "messageId", "timestamp"].includes(k)));
    const userId = ID_COLUMNS.map((c) => fields[c]).find((v) => v !== undefined && v !== "");
    message = { type: "identify", ...(userId !== undefined ? { userId: String(userId) } : {}), ...(fields.anonymousId ? { anonymousId: fields.anonymousId } : {}), traits, ...(fields.timestamp ? { timestamp: fields.timestamp } : {}), ...(fields.messageId ? { messageId: fields.messageId } : {}) };
    // A customer with only an email is still someone: the email is their identifier.
    if (message.userId === undefined && message.anonymousId === undefined && traits.email) message.anonymousId = `import-${source}-${traits.email}`;
  } else {
    const fields = csv ? nest(row) : row;
    if (csv && fields.properties) for (const [k, v] of Object.entries(fields.properties)) fields.properties[k] = numeric(v);
    message = { type: fields.type ?? "track", ...fields };
  }
  message.context = { ...base.context, ...(message.context ?? {}) };
  message.messageId ??= `import-${source}-${fp}-${rowNumber}`;
  return message;
}

/**
 * The file's lines, read as they are consumed: iterating a stream pauses it while the consumer is
 * busy (readline's iterator, by contrast, buffers lines ahead, and the import waits on the API).
 */
async function* linesOf(file) {
  let rest = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 256 * 1024 })) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop();
    yield* parts;
  }
  if (rest !== "") yield rest;
}

async function* rows(file, startAfter) {
  const csv = file.toLowerCase().endsWith(".csv");
  if (csv) {
    const parser = createReadStream(file).pipe(parse({ columns: true, skip_empty_lines: true, relax_column_count: true, bom: true, info: true }));
    let n = 0;
    for await (const { record, info } of parser) {
      n++;
      if (n > startAfter) yield { rowNumber: n, row: record, csv: true, bytes: info.bytes };
    }
    return;
  }
  let n = 0;
  let bytes = 0;
  for await (const raw of linesOf(file)) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    bytes += Buffer.byteLength(raw) + 1;
    if (line.trim() === "") continue;
    n++;
    if (n <= startAfter) continue;
    try {
      // Integers past 2^53 (platform ids) keep every digit, as strings.
      yield { rowNumber: n, row: parseJsonExact(line), csv: false, bytes };
    } catch {
      yield { rowNumber: n, error: { reason: "invalid_json", errors: [{ field: "(row)", message: "is not JSON" }] }, raw: line.slice(0, 2000), bytes };
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function send({ url, writeKey, batch, fetchImpl, maxRetries }) {
  const body = JSON.stringify({ batch: batch.map((b) => b.message) });
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetchImpl(`${url}/v1/batch`, { method: "POST", headers: { authorization: `Basic ${btoa(`${writeKey}:`)}`, "content-type": "application/json" }, body });
    } catch (err) {
      if (attempt >= maxRetries) throw new Error(`The batch API did not answer after ${attempt} tries: ${err.message}`);
      await sleep(Math.min(30_000, 250 * 2 ** attempt));
      continue;
    }
    const answer = await res.json().catch(() => ({}));
    if (res.ok) return answer.rejected ?? [];
    // Every message refused: kept in quarantine, reported here.
    if (res.status === 400 && Array.isArray(answer.rejected)) return answer.rejected;
    if (res.status >= 500 || res.status === 429) {
      if (attempt >= maxRetries) throw new Error(`The batch API answered ${res.status} after ${attempt} tries`);
      await sleep(Math.min(30_000, 250 * 2 ** attempt));
      continue;
    }
    throw new Error(`The batch API refused the import: ${res.status} ${answer.detail ?? ""} ${JSON.stringify(answer.errors ?? [])}`);
  }
}

/**
 * Sends messages through the batch API as they are produced, in batches of up to `batchSize`
 * messages and 450 KB, with at most `concurrency` batches in flight: pulling the next item waits
 * for a free slot, so memory stays flat however many messages `items` (any iterable of
 * `{ message }`, sync or async) yields. Retries as `send` does. Each batch is reported when it
 * leaves (`onDispatch(batch, id)`, ids in order) and when it is done (`onDone(batch, id, refused)`);
 * the first failure stops the reading and is thrown once the batches in flight are done.
 */
export async function sendMessages(items, { url, writeKey, batchSize = 500, concurrency = 4, fetchImpl = fetch, maxRetries = 8, onDispatch = () => {}, onDone = () => {} }) {
  const inFlight = new Set();
  let failure = null;
  let nextId = 0;
  const dispatch = (batch) => {
    const id = nextId++;
    onDispatch(batch, id);
    const p = send({ url, writeKey, batch, fetchImpl, maxRetries })
      .then((refused) => onDone(batch, id, refused))
      .catch((err) => (failure ??= err))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let batch = [];
  let bytes = 0;
  for await (const item of items) {
    const size = JSON.stringify(item.message).length + 1;
    if (batch.length > 0 && (batch.length >= batchSize || bytes + size > MAX_BATCH_BYTES)) {
      // Backpressure: wait for a free slot before reading on.
      while (inFlight.size >= concurrency && !failure) await Promise.race(inFlight);
      if (failure) break;
      dispatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (!failure && batch.length > 0) {
    while (inFlight.size >= concurrency && !failure) await Promise.race(inFlight);
    if (!failure) dispatch(batch);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
}

export async function importFile({ file, source, kind = "events", url, writeKey, batchSize = 500, concurrency = 4, resume = false, report, onProgress = () => {}, fetchImpl = fetch, maxRetries = 8 }) {
  if (!existsSync(file)) throw new Error(`No file ${file}`);
  if (!source || !/^[A-Za-z0-9_.-]{1,64}$/.test(source)) throw new Error("--source must be a name of 1-64 letters, digits, . _ or -");
  if (!["customers", "events"].includes(kind)) throw new Error("--kind must be customers or events");
  const checkpointFile = `${file}.rapport-import.json`;
  const reportFile = report ?? `${file}.rejected.ndjson`;
  const fp = fingerprint(file);
  let startAfter = 0;
  if (resume && existsSync(checkpointFile)) {
    const cp = JSON.parse(readFileSync(checkpointFile, "utf8"));
    if (cp.fingerprint !== fp || cp.source !== source) throw new Error(`The checkpoint ${checkpointFile} is for another file or source; remove it to start over`);
    startAfter = cp.rowsDone;
  } else if (existsSync(reportFile)) rmSync(reportFile);
  const total = statSync(file).size;
  const started = Date.now();
  const stats = { rows: startAfter, sent: 0, rejected: 0, batches: 0, resumedAfter: startAfter };
  const reject = (entry) => {
    stats.rejected++;
    appendFileSync(reportFile, `${JSON.stringify(entry)}\n`);
  };
  // Batches finish out of order; the checkpoint only moves past rows whose batches all finished.
  const pending = new Map();
  let doneUpTo = startAfter;
  const finished = new Map();
  const checkpoint = () => writeFileSync(checkpointFile, JSON.stringify({ source, fingerprint: fp, rowsDone: doneUpTo, at: new Date().toISOString() }));
  const onDone = (batch, id, refused) => {
    for (const r of refused) reject({ row: batch[r.index]?.rowNumber, messageId: r.messageId ?? batch[r.index]?.message.messageId, reason: "invalid_message", errors: r.errors });
    stats.sent += batch.length - refused.length;
    stats.batches++;
    finished.set(id, batch.at(-1).rowNumber);
    // Move the checkpoint over every leading finished batch.
    for (let k = Math.min(...pending.keys()); finished.has(k); k++) {
      doneUpTo = finished.get(k);
      finished.delete(k);
      pending.delete(k);
    }
    checkpoint();
  };
  let readBytes = 0;
  async function* messages() {
    for await (const item of rows(file, startAfter)) {
      stats.rows = item.rowNumber;
      readBytes = item.bytes;
      if (item.error) {
        reject({ row: item.rowNumber, ...item.error, raw: item.raw });
        continue;
      }
      yield { rowNumber: item.rowNumber, message: messageOf(item.row, { kind, source, fp, rowNumber: item.rowNumber, csv: item.csv }) };
    }
  }
  const progress = setInterval(() => onProgress(progressOf(stats, started, readBytes, total)), 500);
  try {
    await sendMessages(messages(), { url, writeKey, batchSize, concurrency, fetchImpl, maxRetries, onDispatch: (batch, id) => pending.set(id, batch.at(-1).rowNumber), onDone });
  } catch (err) {
    throw Object.assign(err, { stats });
  } finally {
    clearInterval(progress);
  }
  onProgress(progressOf(stats, started, total, total));
  // A finished import leaves no checkpoint: running it again would send everything again (and
  // count nothing twice).
  rmSync(checkpointFile, { force: true });
  return { ...stats, seconds: (Date.now() - started) / 1000, report: stats.rejected > 0 ? path.resolve(reportFile) : null };
}

function progressOf(stats, started, readBytes, total) {
  const seconds = (Date.now() - started) / 1000;
  const rate = (stats.rows - stats.resumedAfter) / Math.max(0.001, seconds);
  const fraction = Math.min(1, readBytes / Math.max(1, total));
  const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : Infinity;
  return { ...stats, seconds, rate, fraction, eta };
}

/** `[#######.....]  42%  120,000 rows  8,000 rows/s  ETA 0:15  3 rejected` */
export function progressLine(p) {
  const width = 24;
  const filled = Math.round(p.fraction * width);
  const eta = Number.isFinite(p.eta) ? `${Math.floor(p.eta / 60)}:${String(Math.round(p.eta % 60)).padStart(2, "0")}` : "–";
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(p.fraction * 100)).padStart(3)}%  ${p.rows.toLocaleString("en-US")} rows  ${Math.round(p.rate).toLocaleString("en-US")} rows/s  ETA ${eta}  ${p.rejected} rejected`;
}
