/**
 * Segment members in D1, written in the same transaction as the profiles whose memberships
 * changed (in their shard): one row per entry (deleted on exit), so member lists and the profiles'
 * own memberships never disagree. Each segment's size moved by the difference, and one stats row
 * per segment and day for its history, are written in the control database (where the segment is
 * defined) by the commit's last phase (db/sharded-writes.ts): a crash between the two can leave a
 * size off until the daily segment pass counts the members again (segments/pass.ts).
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import type { Statement } from "../db/statements";
import { splitBySize } from "../profiles/store";
import type { Membership } from "../model/membership";
import type { Transition } from "./membership";

const DAY_MS = 86_400_000;
const MAX_PARAM_BYTES = 900 * 1024;

export interface MembershipChange {
  customerId: string;
  transitions: readonly Transition[];
}

/** The member rows of these changes, in the customers' shard. */
export function memberStatements(d1: D1Database, changes: readonly MembershipChange[]): Statement[] {
  const db = database(d1);
  const entered: { s: string; c: string; at: number }[] = [];
  const exited: { s: string; c: string }[] = [];
  for (const { customerId, transitions } of changes) {
    for (const t of transitions) {
      if (t.kind === "entered") entered.push({ s: t.segmentId, c: customerId, at: t.at });
      else exited.push({ s: t.segmentId, c: customerId });
    }
  }
  const statements: Statement[] = [];
  for (const group of splitBySize(entered, MAX_PARAM_BYTES)) statements.push(db.run(insertMembers(JSON.stringify(group))));
  for (const group of splitBySize(exited, MAX_PARAM_BYTES)) statements.push(db.run(deleteMembers(JSON.stringify(group))));
  return statements;
}

/** Sizes and day stats of the segments these changes concern, in the control database. */
export function segmentCountStatements(d1: D1Database, changes: readonly MembershipChange[]): Statement[] {
  const db = database(d1);
  const entered: { s: string; c: string; at: number }[] = [];
  const exited: { s: string; c: string }[] = [];
  // segment → day → [entered, exited]
  const stats = new Map<string, Map<number, [number, number]>>();
  for (const { customerId, transitions } of changes) {
    for (const t of transitions) {
      if (t.kind === "entered") entered.push({ s: t.segmentId, c: customerId, at: t.at });
      else exited.push({ s: t.segmentId, c: customerId });
      const days = stats.get(t.segmentId) ?? new Map<number, [number, number]>();
      stats.set(t.segmentId, days);
      const day = Math.floor(t.at / DAY_MS);
      const counts = days.get(day) ?? [0, 0];
      counts[t.kind === "entered" ? 0 : 1]++;
      days.set(day, counts);
    }
  }
  if (stats.size === 0) return [];
  const statements: Statement[] = [];
  const deltas: { s: string; d: number }[] = [];
  const dayRows: { s: string; day: number; e: number; x: number }[] = [];
  for (const [s, days] of stats) {
    let d = 0;
    for (const [day, [e, x]] of days) {
      d += e - x;
      dayRows.push({ s, day, e, x });
    }
    deltas.push({ s, d });
  }
  statements.push(db.run(moveSizes(JSON.stringify(deltas))), db.run(upsertStats(JSON.stringify(dayRows))));
  return statements;
}

/**
 * A customer about to disappear (erased, or merged into another) leaves its segments: its
 * member rows go (in its shard, `members`) and the sizes shrink (in the control database,
 * `sizes`). `segments`: the memberships of its row as read.
 */
export function forgetMembershipStatements(shard: D1Database, control: D1Database, customerId: string, segments: Membership): { members: Statement[]; sizes: Statement[] } {
  const ids = JSON.stringify(Object.entries(segments).filter(([, [inside]]) => inside === 1).map(([id]) => id));
  if (ids === "[]") return { members: [], sizes: [] };
  return {
    members: [database(shard).run(sql`DELETE FROM segment_members WHERE customer_id = ${customerId} AND segment_id IN (SELECT value FROM json_each(${ids}))`)],
    sizes: [database(control).run(sql`UPDATE segments SET size = max(0, size - 1) WHERE id IN (SELECT value FROM json_each(${ids}))`)],
  };
}

// Entries are idempotent (a row already there stays), exits too.
const insertMembers = (rows: string) => sql`
  INSERT INTO segment_members (segment_id, customer_id, entered_at)
  SELECT json_extract(value, '$.s'), json_extract(value, '$.c'), json_extract(value, '$.at') FROM json_each(${rows}) WHERE true
  ON CONFLICT (segment_id, customer_id) DO UPDATE SET entered_at = excluded.entered_at`;

const deleteMembers = (rows: string) => sql`
  DELETE FROM segment_members WHERE (segment_id, customer_id) IN (SELECT json_extract(value, '$.s'), json_extract(value, '$.c') FROM json_each(${rows}))`;

// The deltas are a few bytes per segment: binding them twice costs nothing.
const moveSizes = (deltas: string) => sql`
  UPDATE segments SET size = max(0, size + (SELECT sum(json_extract(value, '$.d')) FROM json_each(${deltas}) WHERE json_extract(value, '$.s') = segments.id))
  WHERE id IN (SELECT json_extract(value, '$.s') FROM json_each(${deltas}))`;

const upsertStats = (rows: string) => sql`
  INSERT INTO segment_stats (segment_id, day, entered, exited, size)
  SELECT json_extract(value, '$.s'), json_extract(value, '$.day'), json_extract(value, '$.e'), json_extract(value, '$.x'), (SELECT size FROM segments WHERE id = json_extract(value, '$.s'))
  FROM json_each(${rows}) WHERE true
  ON CONFLICT (segment_id, day) DO UPDATE SET entered = entered + excluded.entered, exited = exited + excluded.exited, size = excluded.size`;
