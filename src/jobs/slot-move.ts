/**
 * The steps of a slot move (maintenance/slot-moves.ts says what a move is), one per job on the
 * jobs queue: rows' events into their objects, the copy table by table, the verification, and
 * after the operator's flip of SHARDS the cleaning of the source.
 */
import { and, eq, sql } from "drizzle-orm";
import { database } from "../db/client";
import { slotMoves } from "../db/schema";
import { copyPage, countRange, deletePage, rowsHoldingEvents, SHARD_TABLES, type SlotRange, tableNamed } from "../db/slot-copy";
import { d1Binding } from "../db/shards";
import { log } from "../kernel/log";
import type { SlotMoveJob } from "../model/jobs";
import { getMove, MOVE_NOTICE_MS, type SlotMove } from "../db/slot-moves";
import { differencesOf } from "../maintenance/slot-moves";
import { reevaluateCustomers } from "../pipeline/process";

const PAGE = 500;

/** One step of a move; queues the next unless the move waits for the operator or is over. */
export async function runMoveJob(env: Env, job: SlotMoveJob, { now = Date.now(), enqueue = true }: { now?: number; enqueue?: boolean } = {}): Promise<SlotMove | null> {
  const move = await getMove(env, job.moveId);
  if (!move) return null;
  const range = { from: move.fromSlot, to: move.toSlot };
  const source = d1Binding(env, move.fromBinding);
  const target = d1Binding(env, move.toBinding);
  let next: Partial<SlotMove> | null = null;
  switch (move.state) {
    case "events": {
      if (now < move.createdAt + MOVE_NOTICE_MS) break;
      const page = await rowsHoldingEvents(source, range, move.cursor ?? "", PAGE);
      if (page.ids.length > 0) await reevaluateCustomers(env, page.ids, { now });
      next = page.cursor === null ? { state: "copying", tableName: SHARD_TABLES[0]!.name, cursor: null } : { cursor: page.cursor };
      break;
    }
    case "copying": {
      const table = tableNamed(move.tableName!);
      const page = await copyPage(source, target, table, move.cursor ? (JSON.parse(move.cursor) as unknown[]) : null, range, PAGE);
      const copied = JSON.parse(move.copied) as Record<string, number>;
      copied[table.name] = (copied[table.name] ?? 0) + page.rows;
      next = { copied: JSON.stringify(copied), ...(page.cursor ? { cursor: JSON.stringify(page.cursor) } : afterTable(table.name)) };
      if (page.cursor === null && next.tableName === null) next = { ...next, ...(await verify(source, target, range)) };
      break;
    }
    case "cleaning": {
      const table = tableNamed(move.tableName!);
      const page = await deletePage(source, table, move.cursor ? (JSON.parse(move.cursor) as unknown[]) : null, range, PAGE);
      next = page.cursor ? { cursor: JSON.stringify(page.cursor) } : afterTable(table.name);
      if (page.cursor === null && next.tableName === null) next = { ...next, state: "finished", finishedAt: now };
      break;
    }
    default:
      return move;
  }
  if (next) {
    // Guarded by the state and cursor read: a step run twice (a redelivered job) records once.
    await database(env.DB)
      .update(slotMoves)
      .set({ ...next, updatedAt: now })
      .where(and(eq(slotMoves.id, move.id), eq(slotMoves.state, move.state), sql`${slotMoves.cursor} IS ${move.cursor}`));
  }
  const after = await getMove(env, move.id);
  if (after?.state === "finished") log("info", "shards.move_finished", { moveId: move.id });
  if (enqueue && after && (after.state === "events" || after.state === "copying" || after.state === "cleaning")) {
    await env.JOBS.send({ v: 1, kind: "slot_move", moveId: move.id } satisfies SlotMoveJob, after.state === "events" && now < after.createdAt + MOVE_NOTICE_MS ? { delaySeconds: 5 } : {});
  }
  return after;
}

/** The next table to copy or clean, from its start; none after the last. */
function afterTable(name: string): Partial<SlotMove> {
  const index = SHARD_TABLES.findIndex((t) => t.name === name);
  const following = SHARD_TABLES[index + 1];
  return { tableName: following ? following.name : null, cursor: null };
}

/**
 * Both sides counted: every table's rows of the range (the target holds at least every
 * suppression of the source) and the digest of every customer's id and version.
 */
async function verify(source: D1Database, target: D1Database, range: SlotRange): Promise<Partial<SlotMove>> {
  const [from, to] = await Promise.all([countRange(source, range), countRange(target, range)]);
  const differences = differencesOf(from, to);
  const verification = JSON.stringify({ source: from, target: to, differences });
  return differences.length === 0 ? { state: "copied", verification } : { state: "failed", verification, error: `The copy differs: ${differences.join("; ")}` };
}

