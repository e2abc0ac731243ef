/**
 * Where a row lives (docs/scaling.md, "Slots and shards"). Profiles and the cross-customer indexes
 * are spread over D1 databases, the *shards*: every row belongs to one of 1,024 slots (a
 * customer's row, memberships and product views by the slot of the customer id, an identifier by
 * the slot of its key), and the `SHARDS` variable gives each shard binding a range of slots:
 * `DB:0-511,SHARD_1:512-1023`. `DB` is also the control database (definitions, keys, deliveries,
 * quarantine), so a deployment from before shards is `DB:0-1023`, and growing means moving slot
 * ranges to new bindings.
 *
 * The slot is FNV-1a (32 bits) of the UTF-8 bytes, modulo 1,024: fixed forever, since rows are
 * placed by it (a change would lose every row). 1,024 slots leave room for a thousand shards.
 */

import { fnv1a32 } from "../kernel/fnv";

export const SLOTS = 1024;

export const slotOf = (key: string): number => fnv1a32(key) % SLOTS;

export interface ShardRange {
  binding: string;
  from: number;
  to: number;
}

/**
 * Parses `SHARDS`: comma-separated `BINDING:from-to` ranges that together cover every slot once.
 * Throws naming what is wrong, so a deployment with a broken map fails its first request loudly.
 */
export function parseShardMap(text: string): ShardRange[] {
  const ranges = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*):(\d+)-(\d+)$/.exec(entry);
      if (!match) throw new Error(`SHARDS: "${entry}" is not BINDING:from-to`);
      const [, binding, from, to] = match;
      return { binding: binding!, from: Number(from), to: Number(to) };
    })
    .sort((a, b) => a.from - b.from);
  let next = 0;
  for (const r of ranges) {
    if (r.from > r.to) throw new Error(`SHARDS: ${r.binding}:${r.from}-${r.to} ends before it starts`);
    if (r.from !== next) throw new Error(r.from < next ? `SHARDS: slot ${r.from} is in two ranges` : `SHARDS: slots ${next}-${r.from - 1} belong to no shard`);
    next = r.to + 1;
  }
  if (next !== SLOTS) throw new Error(next > SLOTS ? `SHARDS: slots go up to ${SLOTS - 1}` : `SHARDS: slots ${next}-${SLOTS - 1} belong to no shard`);
  return ranges;
}

/** The shards of a deployment: the database of each slot, and each database once. */
export class ShardMap {
  /** Index: slot → position in `databases`. */
  private readonly bySlot = new Uint16Array(SLOTS);
  readonly databases: D1Database[] = [];
  readonly bindings: string[] = [];
  /** Read queries sent to each database by this isolate (the benchmark reports them per event). */
  readonly reads = new Map<D1Database, number>();

  constructor(ranges: readonly ShardRange[], resolve: (binding: string) => D1Database) {
    for (const r of ranges) {
      let index = this.bindings.indexOf(r.binding);
      if (index < 0) {
        index = this.bindings.push(r.binding) - 1;
        this.databases.push(resolve(r.binding));
      }
      this.bySlot.fill(index, r.from, r.to + 1);
    }
  }

  /** The database of a customer's row (and memberships, product views) or of an identifier key. */
  of(key: string): D1Database {
    return this.databases[this.bySlot[slotOf(key)]!]!;
  }

  /** The binding that holds a slot. */
  bindingOfSlot(slot: number): string {
    return this.bindings[this.bySlot[slot]!]!;
  }

  /** Keys grouped by the database they live in (only databases some key lives in). */
  group<T>(items: readonly T[], keyOf: (item: T) => string): Map<D1Database, T[]> {
    const groups = new Map<D1Database, T[]>();
    for (const item of items) {
      const d1 = this.of(keyOf(item));
      const list = groups.get(d1);
      if (list) list.push(item);
      else groups.set(d1, [item]);
    }
    return groups;
  }

  /**
   * A page of rows ordered by a key, across every shard: each shard answers its first `limit`
   * rows after the cursor (the reader's query), and the page is the first `limit` of them all. So
   * a scan pages by one cursor (the last key), whatever the number of shards.
   */
  async page<T>(limit: number, read: (d1: D1Database) => Promise<T[]>, keyOf: (row: T) => string): Promise<T[]> {
    const parts = await Promise.all(this.databases.map((d1) => this.counted(d1, read)));
    if (parts.length === 1) return parts[0]!;
    return parts
      .flat()
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
      .slice(0, limit);
  }

  /** Runs `read` on every shard, in parallel, and concatenates the answers. */
  async everywhere<T>(read: (d1: D1Database) => Promise<T[]>): Promise<T[]> {
    return (await Promise.all(this.databases.map((d1) => this.counted(d1, read)))).flat();
  }

  /** The name of a database of this map (its binding). */
  bindingOf(d1: D1Database): string {
    return this.bindings[this.databases.indexOf(d1)] ?? "?";
  }

  private counted<T>(d1: D1Database, read: (d1: D1Database) => Promise<T>): Promise<T> {
    this.reads.set(d1, (this.reads.get(d1) ?? 0) + 1);
    return read(d1);
  }

  /** Runs `read` on each database holding some of `keys`, in parallel, and concatenates the answers. */
  async readEach<T, K = string>(items: readonly K[], keyOf: (item: K) => string, read: (d1: D1Database, items: K[]) => Promise<T[]>): Promise<T[]> {
    const parts = await Promise.all([...this.group(items, keyOf)].map(([d1, some]) => this.counted(d1, (db) => read(db, some))));
    return parts.flat();
  }
}

const maps = new WeakMap<object, ShardMap>();

/** A D1 binding of this Worker by name (a shard, or one a move copies to), or an error naming it. */
export function d1Binding(env: Env, binding: string): D1Database {
  const d1 = (env as unknown as Record<string, unknown>)[binding] as Partial<D1Database> | undefined;
  if (!d1 || typeof d1.prepare !== "function" || typeof d1.batch !== "function") throw new Error(`SHARDS: ${binding} is not a D1 binding of this Worker`);
  return d1 as D1Database;
}

/** The shard map of `env` (parsed once per env object); every binding it names must be a D1 database. */
export function shards(env: Env): ShardMap {
  let map = maps.get(env);
  if (!map) {
    const vars = env as unknown as Record<string, unknown>;
    const text = typeof vars.SHARDS === "string" && vars.SHARDS.trim() !== "" ? vars.SHARDS : "DB:0-1023";
    map = new ShardMap(parseShardMap(text), (binding) => d1Binding(env, binding));
    maps.set(env, map);
  }
  return map;
}
