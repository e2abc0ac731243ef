/**
 * Copying the rows of a range of slots from one D1 shard to another, a page at a time, and
 * counting them on both sides: the table work of a slot move (maintenance/slot-move.ts,
 * docs/scaling.md "Moving slots"). Each table is read in its key's order, each row placed by
 * the slot of the key that placed it (db/shards.ts), so a page is resumable from its last key.
 *
 * Rows are copied as they are (versions included): the batches hold a row in `copying` while
 * they run, which the pipeline's guards (migration 0022) let through.
 */
import { type SQL, sql } from "drizzle-orm";
import { database } from "./client";
import { slotOf } from "./shards";
import { runBatch } from "./statements";

type Row = Record<string, unknown>;

export interface SlotRange {
  from: number;
  to: number;
}

export interface CopiedTable {
  name: string;
  /** The key columns, in the order rows are read. */
  key: readonly string[];
  /** The key that places a row (null: the row goes everywhere, as suppressions do). */
  placedBy: ((row: Row) => string) | null;
}

/**
 * The tables a shard holds rows of, in the order they move. Event chunks are not among them: a
 * move first has every customer of the range keep its events in its object (none left in D1).
 * product_viewers is a row per product and day listing customers: its lists are split by slot.
 */
export const SHARD_TABLES: readonly CopiedTable[] = [
  { name: "customers", key: ["id"], placedBy: (r) => String(r.id) },
  { name: "identities", key: ["key"], placedBy: (r) => String(r.key) },
  { name: "merges", key: ["merged_id"], placedBy: (r) => String(r.merged_id) },
  { name: "segment_members", key: ["segment_id", "customer_id"], placedBy: (r) => String(r.customer_id) },
  { name: "product_viewers", key: ["product_id", "day"], placedBy: null },
  { name: "suppressions", key: ["key"], placedBy: null },
];

export const tableNamed = (name: string): CopiedTable => {
  const table = SHARD_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`Not a shard table: ${name}`);
  return table;
};

const inRange = (range: SlotRange) => (key: string) => {
  const slot = slotOf(key);
  return slot >= range.from && slot <= range.to;
};

/** The table's key columns, as SQL: `"a", "b"`. */
const keyColumns = (table: CopiedTable): SQL => sql.join(table.key.map((k) => sql.identifier(k)), sql`, `);

/** One page of a table in key order after `cursor` (null: from the start). */
async function readPage(d1: D1Database, table: CopiedTable, cursor: unknown[] | null, limit: number): Promise<Row[]> {
  const keys = keyColumns(table);
  const after = cursor ? sql`WHERE (${keys}) > (${sql.join(cursor.map((v) => sql`${v}`), sql`, `)})` : sql``;
  return database(d1).all<Row>(sql`SELECT * FROM ${sql.identifier(table.name)} ${after} ORDER BY ${keys} LIMIT ${limit}`);
}

const keyOf = (table: CopiedTable, row: Row) => table.key.map((k) => row[k]);

/** The rows (or, for product viewers, the list entries) of a page that belong to the range. */
function rowsInRange(table: CopiedTable, rows: readonly Row[], range: SlotRange): Row[] {
  const belongs = inRange(range);
  if (table.name === "product_viewers") {
    return rows.flatMap((r) => {
      const customers = (JSON.parse(String(r.customers)) as string[]).filter(belongs);
      return customers.length > 0 ? [{ ...r, customers: JSON.stringify(customers) }] : [];
    });
  }
  return table.placedBy ? rows.filter((r) => belongs(table.placedBy!(r))) : [...rows];
}

export interface PageResult {
  /** Where the next page starts; null when the table is done. */
  cursor: unknown[] | null;
  rows: number;
}

/** Copies the next page of `table`'s rows of the range from `source` to `target` (replacing what is there). */
export async function copyPage(source: D1Database, target: D1Database, table: CopiedTable, cursor: unknown[] | null, range: SlotRange, limit: number): Promise<PageResult> {
  const page = await readPage(source, table, cursor, limit);
  const rows = rowsInRange(table, page, range);
  if (rows.length > 0) {
    const columns = Object.keys(rows[0]!);
    const values = sql.join(columns.map((c) => sql`json_extract(value, ${`$.${c}`})`), sql`, `);
    const json = JSON.stringify(rows);
    const insert =
      table.name === "product_viewers"
        ? sql`INSERT INTO product_viewers (product_id, day, customers) SELECT ${values} FROM json_each(${json}) WHERE true
           ON CONFLICT (product_id, day) DO UPDATE SET customers = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(product_viewers.customers) UNION SELECT value FROM json_each(excluded.customers)))`
        : sql`INSERT OR REPLACE INTO ${sql.identifier(table.name)} (${sql.join(columns.map((c) => sql.identifier(c)), sql`, `)}) SELECT ${values} FROM json_each(${json})`;
    const db = database(target);
    await runBatch(target, [db.run(sql`INSERT OR IGNORE INTO copying (one) VALUES (1)`), db.run(insert), db.run(sql`DELETE FROM copying`)]);
  }
  return { cursor: page.length < limit ? null : keyOf(table, page[page.length - 1]!), rows: rows.length };
}

/**
 * Deletes the next page of `table`'s rows of the range from `source` (after the map moved them
 * elsewhere). Suppressions stay (every shard keeps them all). Product viewers lose the range's
 * customers from their lists.
 */
export async function deletePage(source: D1Database, table: CopiedTable, cursor: unknown[] | null, range: SlotRange, limit: number): Promise<PageResult> {
  const page = await readPage(source, table, cursor, limit);
  const next = page.length < limit ? null : keyOf(table, page[page.length - 1]!);
  if (table.name === "suppressions") return { cursor: next, rows: 0 };
  const rows = rowsInRange(table, page, range);
  if (rows.length === 0) return { cursor: next, rows: 0 };
  if (table.name === "product_viewers") {
    const belongs = inRange(range);
    const kept = rows.map((r) => {
      const before = page.find((p) => p.product_id === r.product_id && p.day === r.day)!;
      return [r.product_id, r.day, JSON.stringify((JSON.parse(String(before.customers)) as string[]).filter((c) => !belongs(c)))];
    });
    const db = database(source);
    await runBatch(source, [
      db.run(sql`UPDATE product_viewers SET customers = json_extract(k.value, '$[2]') FROM json_each(${JSON.stringify(kept)}) AS k WHERE product_viewers.product_id = json_extract(k.value, '$[0]') AND product_viewers.day = json_extract(k.value, '$[1]')`),
      db.run(sql`DELETE FROM product_viewers WHERE customers = '[]'`),
    ]);
    return { cursor: next, rows: rows.length };
  }
  const db = database(source);
  const picks = sql.join(table.key.map((_, i) => sql`json_extract(value, ${`$[${i}]`})`), sql`, `);
  await db.run(sql`DELETE FROM ${sql.identifier(table.name)} WHERE (${keyColumns(table)}) IN (SELECT ${picks} FROM json_each(${JSON.stringify(rows.map((r) => keyOf(table, r)))}))`);
  if (table.name === "customers") {
    // Chunks of rows from before events moved into the objects (a move requires none are left).
    await db.run(sql`DELETE FROM event_chunks WHERE customer_id IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.id))}))`);
  }
  return { cursor: next, rows: rows.length };
}

export interface RangeCount {
  /** Rows of the range in each table (product viewers: list entries). */
  tables: Record<string, number>;
  /** SHA-256 of every customer of the range as `id:version`, in id order: equal on both sides when every profile is. */
  customersDigest: string;
}

/** Counts the range's rows in `d1`, table by table, and digests its customers. */
export async function countRange(d1: D1Database, range: SlotRange, pageSize = 1000): Promise<RangeCount> {
  const tables: Record<string, number> = {};
  const customers: string[] = [];
  for (const table of SHARD_TABLES) {
    let n = 0;
    for (let cursor: unknown[] | null = null, first = true; first || cursor; first = false) {
      const page = await readPage(d1, table, cursor, pageSize);
      const rows = rowsInRange(table, page, range);
      n += table.name === "product_viewers" ? rows.reduce((sum, r) => sum + (JSON.parse(String(r.customers)) as string[]).length, 0) : rows.length;
      if (table.name === "customers") customers.push(...rows.map((r) => `${r.id}:${r.version}`));
      cursor = page.length < pageSize ? null : keyOf(table, page[page.length - 1]!);
    }
    tables[table.name] = n;
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(customers.join("\n")));
  return { tables, customersDigest: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("") };
}

/** Customers of the range whose events are still in their D1 row (a move waits for none). */
export async function rowsHoldingEvents(d1: D1Database, range: SlotRange, after: string, limit: number): Promise<{ ids: string[]; cursor: string | null }> {
  const page = await database(d1).all<{ id: string; event_seq: number | null }>(sql`SELECT id, event_seq FROM customers WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
  const belongs = inRange(range);
  return { ids: page.filter((r) => r.event_seq === null && belongs(r.id)).map((r) => r.id), cursor: page.length < limit ? null : page[page.length - 1]!.id };
}
