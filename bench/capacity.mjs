// Capacity figures of a local server's state (docs/scaling.md): bytes in each store, per
// customer and per stored event, read from the files wrangler dev keeps under its state
// directory. D1 databases and Durable Objects are SQLite files (sizes by table from `dbstat`);
// KV and R2 keep their values as blob files. Read-only: the server may keep running.
import { existsSync, readdirSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

/** Read-only, waiting out a running server's writes (locally every object is a SQLite file it may be writing). */
const open = (file) => new DatabaseSync(file, { readOnly: true, timeout: 5_000 });

const sqliteFiles = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite") : []);
const blobBytes = (dir) => {
  if (!existsSync(dir)) return { files: 0, bytes: 0 };
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true })) {
    const s = statSync(`${dir}/${entry}`);
    if (s.isFile()) {
      files++;
      bytes += s.size;
    }
  }
  return { files, bytes };
};

/** Bytes by table (indexes under their own names) of one SQLite file. */
function tables(db) {
  return Object.fromEntries(db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").all().map((r) => [r.name, r.bytes]));
}

/**
 * `stateDir`: a wrangler dev `--persist-to` directory. Returns every D1 database (its bytes by
 * table, its customers and stored events), the Durable Objects of `doClass`, KV and R2.
 */
export function measureStorage(stateDir, { doClass = "rapport-CustomerSession" } = {}) {
  const d1Dir = `${stateDir}/v3/d1/miniflare-D1DatabaseObject`;
  const databases = sqliteFiles(d1Dir).map((file) => {
    const db = open(`${d1Dir}/${file}`);
    try {
      const has = (t) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
      const customers = has("customers") ? db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(event_count), 0) AS events FROM customers").get() : { n: 0, events: 0 };
      return { file, bytes: statSync(`${d1Dir}/${file}`).size, customers: customers.n, events: customers.events, tables: tables(db) };
    } finally {
      db.close();
    }
  });
  const doDir = `${stateDir}/v3/do/${doClass}`;
  const objectTables = {};
  let objectBytes = 0;
  // Objects whose tables could not be read (busy past the timeout): counted in bytes only.
  let unread = 0;
  const objectFiles = sqliteFiles(doDir);
  for (const file of objectFiles) {
    objectBytes += statSync(`${doDir}/${file}`).size;
    try {
      const db = open(`${doDir}/${file}`);
      try {
        for (const [name, bytes] of Object.entries(tables(db))) objectTables[name] = (objectTables[name] ?? 0) + bytes;
      } finally {
        db.close();
      }
    } catch {
      unread++;
    }
  }
  const kvDir = `${stateDir}/v3/kv`;
  const kv = existsSync(kvDir) ? readdirSync(kvDir).filter((d) => !d.startsWith("miniflare-")).reduce((acc, ns) => { const b = blobBytes(`${kvDir}/${ns}/blobs`); return { files: acc.files + b.files, bytes: acc.bytes + b.bytes }; }, { files: 0, bytes: 0 }) : { files: 0, bytes: 0 };
  const r2Dir = `${stateDir}/v3/r2`;
  const r2 = existsSync(r2Dir) ? readdirSync(r2Dir).filter((d) => !d.startsWith("miniflare-")).reduce((acc, bucket) => { const b = blobBytes(`${r2Dir}/${bucket}/blobs`); return { files: acc.files + b.files, bytes: acc.bytes + b.bytes }; }, { files: 0, bytes: 0 }) : { files: 0, bytes: 0 };
  return { databases, objects: { count: objectFiles.length, bytes: objectBytes, tables: objectTables, unread }, kv, r2 };
}

/** Markdown rows of a measurement: per store, per customer and per stored event. */
export function capacityRows(m, f) {
  const customers = m.databases.reduce((n, d) => n + d.customers, 0);
  const events = m.databases.reduce((n, d) => n + d.events, 0);
  const per = (bytes, n) => (n > 0 ? f(bytes / n) : "n/a");
  const withCustomers = m.databases.filter((d) => d.customers > 0);
  const largest = withCustomers.reduce((a, d) => (a && a.bytes >= d.bytes ? a : d), null);
  const top = (t, n) => Object.entries(t).sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, bytes]) => `${name} ${f(bytes / 1e6, 1)} MB`).join(", ");
  const rows = [
    `| D1 databases holding customers | ${withCustomers.length} (of ${m.databases.length}) | | |`,
    ...m.databases.map((d) => `| D1 ${d.file.slice(0, 8)}…: ${f(d.customers)} customers, ${f(d.events)} events (largest tables: ${top(d.tables, 4)}) | ${f(d.bytes / 1e6, 1)} MB | ${per(d.bytes, d.customers)} | ${per(d.bytes, d.events)} |`),
    `| largest D1 database: its share of customers | ${largest ? `${f((100 * largest.customers) / Math.max(1, customers), 1)}%` : "n/a"} | ${largest ? per(largest.bytes, largest.customers) : "n/a"} | |`,
    `| Durable Objects (${f(m.objects.count)} objects; largest tables: ${top(m.objects.tables, 4)}${m.objects.unread ? `; ${f(m.objects.unread)} busy, sizes only` : ""}) | ${f(m.objects.bytes / 1e6, 1)} MB | ${per(m.objects.bytes, customers)} | ${per(m.objects.bytes, events)} |`,
    `| KV (${f(m.kv.files)} values: snapshots and identifier entries of served customers) | ${f(m.kv.bytes / 1e6, 1)} MB | ${per(m.kv.bytes, customers)} | |`,
    `| R2 raw archive (${f(m.r2.files)} objects) | ${f(m.r2.bytes / 1e6, 1)} MB | | ${per(m.r2.bytes, events)} |`,
  ];
  return { customers, events, rows };
}

/** Read queries, write batches and rows per event in each D1 database, from the batches' `d1ByShard`. */
export function shardLine(batches, events) {
  const byShard = {};
  for (const b of batches) {
    for (const [binding, w] of Object.entries(b.d1ByShard ?? {})) {
      if (!byShard[binding]) byShard[binding] = { reads: 0, batches: 0, rows: 0 };
      const t = byShard[binding];
      t.reads += w.reads;
      t.batches += w.batches;
      t.rows += w.rows;
    }
  }
  const per = (n) => (n / Math.max(1, events)).toFixed(3);
  const perThousand = (n) => ((1000 * n) / Math.max(1, events)).toFixed(2);
  return Object.entries(byShard).map(([binding, t]) => `${binding} ${per(t.rows)} rows per event, ${perThousand(t.reads)} read queries and ${perThousand(t.batches)} write batches per 1,000 events`).join("; ") || "none";
}
