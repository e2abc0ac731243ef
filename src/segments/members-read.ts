/**
 * Reading a segment's members (by customer id order, a page at a time or streamed as NDJSON for
 * campaign preparation) and its history (entries, exits and size per UTC day).
 */
import { type ShardMap, shards } from "../db/shards";
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { database } from "../db/client";
import { segmentStats } from "../db/schema";
const DAY_MS = 86_400_000;
const EXPORT_PAGE = 1_000;

export interface Member {
  customerId: string;
  userId: string | null;
  email: string | null;
  enteredAt: string;
}

interface MemberRow {
  customer_id: string;
  entered_at: number;
  user_id: string | null;
  email: string | null;
}

// The user id and email come from the profile row: what an ESP needs to address the member.
const members = (segmentId: string, after: string, limit: number) => sql`
  SELECT m.customer_id, m.entered_at,
         (SELECT substr(value, 9) FROM json_each(c.identity_keys) WHERE value LIKE 'user_id:%' LIMIT 1) AS user_id,
         coalesce(json_extract(c.traits, '$.email'), (SELECT substr(value, 7) FROM json_each(c.identity_keys) WHERE value LIKE 'email:%' LIMIT 1)) AS email
  FROM segment_members AS m LEFT JOIN customers AS c ON c.id = m.customer_id
  WHERE m.segment_id = ${segmentId} AND m.customer_id > ${after} ORDER BY m.customer_id LIMIT ${limit}`;

const toMember = (r: MemberRow): Member => ({ customerId: r.customer_id, userId: r.user_id, email: typeof r.email === "string" ? r.email : null, enteredAt: new Date(r.entered_at).toISOString() });

/** Members after `after` in customer id order, across the shards (each member row is in its customer's shard). */
async function rows(map: ShardMap, segmentId: string, after: string, limit: number): Promise<MemberRow[]> {
  return map.page(limit, (d1) => database(d1).all<MemberRow>(members(segmentId, after, limit)), (r) => r.customer_id);
}

/** One page; `next` is the `after` of the following page, null at the end. */
export async function memberPage(env: Env, segmentId: string, after: string, limit: number): Promise<{ members: Member[]; next: string | null }> {
  const page = await rows(shards(env), segmentId, after, limit);
  return { members: page.map(toMember), next: page.length === limit ? page[page.length - 1]!.customer_id : null };
}

/** Every member, one JSON object per line, read from D1 a page at a time as the client reads. */
export function membersExport(env: Env, segmentId: string): ReadableStream<Uint8Array> {
  const map = shards(env);
  const encoder = new TextEncoder();
  let after = "";
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close();
      const page = await rows(map, segmentId, after, EXPORT_PAGE);
      if (page.length > 0) controller.enqueue(encoder.encode(`${page.map((r) => JSON.stringify(toMember(r))).join("\n")}\n`));
      after = page[page.length - 1]?.customer_id ?? after;
      if (page.length < EXPORT_PAGE) {
        done = true;
        controller.close();
      }
    },
  });
}

/**
 * The last `days` UTC days, oldest first: entries, exits, and the size at the end of the day
 * (carried over from the last day with a change).
 */
export async function segmentHistory(d1: D1Database, segmentId: string, days: number, now = Date.now()) {
  const today = Math.floor(now / DAY_MS);
  const from = today - days + 1;
  const db = database(d1);
  const stats = segmentStats;
  const results = await db.select({ day: stats.day, entered: stats.entered, exited: stats.exited, size: stats.size }).from(stats).where(and(eq(stats.segmentId, segmentId), gte(stats.day, from))).orderBy(stats.day).all();
  const before = await db.select({ size: stats.size }).from(stats).where(and(eq(stats.segmentId, segmentId), lt(stats.day, from))).orderBy(desc(stats.day)).limit(1).get();
  const byDay = new Map(results.map((r) => [r.day, r]));
  let size = before?.size ?? 0;
  const out: { date: string; entered: number; exited: number; size: number }[] = [];
  for (let day = from; day <= today; day++) {
    const r = byDay.get(day);
    if (r) size = r.size;
    out.push({ date: new Date(day * DAY_MS).toISOString().slice(0, 10), entered: r?.entered ?? 0, exited: r?.exited ?? 0, size });
  }
  return out;
}
