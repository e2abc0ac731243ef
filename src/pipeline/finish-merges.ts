/**
 * Merges across shards run in phases (db/sharded-writes.ts). One interrupted after the merged
 * customer moved into the merges log is finished by the next batch that carries one of its
 * identifiers; this daily sweep finishes those no event comes back for: each shard's merge records
 * left unfinished for a while are reevaluated (pipeline/resolve.ts resolveCustomers takes the
 * merged customer into its survivor if the survivor's row has not, and points its identifiers at it).
 */
import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { merges } from "../db/schema";
import { shards } from "../db/shards";
import { log } from "../kernel/log";
import { reevaluateCustomers } from "./process";

/** A merge younger than this may still be under way. */
export const UNFINISHED_AFTER_MS = 10 * 60_000;
const PAGE = 100;

/** Finishes the merges interrupted before `now - UNFINISHED_AFTER_MS`; returns how many it found. */
export async function finishMerges(env: Env, now = Date.now()): Promise<number> {
  let found = 0;
  for (const d1 of shards(env).databases) {
    const rows = await database(d1)
      .select({ mergedId: merges.mergedId })
      .from(merges)
      .where(sql`${merges.finishedAt} IS NULL AND ${merges.createdAt} < ${now - UNFINISHED_AFTER_MS}`)
      .limit(PAGE)
      .all();
    if (rows.length === 0) continue;
    found += rows.length;
    await reevaluateCustomers(env, rows.map((r) => r.mergedId), { now });
  }
  if (found > 0) log("info", "identity.merges_finished", { count: found });
  return found;
}
