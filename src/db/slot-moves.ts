/**
 * The slot move under way, if any (maintenance/slot-moves.ts starts and finishes moves,
 * jobs/slot-move.ts runs their steps): what every writer of profiles asks before writing, since
 * nothing may write the profiles of a range while it is copied to another shard.
 */
import { eq, inArray } from "drizzle-orm";
import { database } from "./client";
import { slotMoves } from "./schema";
import { ApiError } from "../kernel/errors";

export type SlotMove = typeof slotMoves.$inferSelect;

/** Writers learn of a move within this (they cache the answer); the copy starts after it. */
export const MOVE_NOTICE_MS = 30_000;
const ACTIVE = ["events", "copying", "copied", "cleaning"] as const;

export async function getMove(env: Env, id: string): Promise<SlotMove | null> {
  return (await database(env.DB).select().from(slotMoves).where(eq(slotMoves.id, id)).get()) ?? null;
}

let notice: { at: number; move: SlotMove | null } | null = null;

/**
 * The move under way, if any. Cached per isolate for 10 s (the copy starts MOVE_NOTICE_MS after
 * the move, so every writer knows by then); `fresh` reads it now.
 */
export async function activeMove(env: Env, { fresh = false, now = Date.now() }: { fresh?: boolean; now?: number } = {}): Promise<SlotMove | null> {
  if (!fresh && notice && now - notice.at < 10_000) return notice.move;
  const move = (await database(env.DB).select().from(slotMoves).where(inArray(slotMoves.state, [...ACTIVE])).get()) ?? null;
  notice = { at: now, move };
  return move;
}


/** Forgets this isolate's cached answer (a move just started or ended here). */
export function forgetActiveMove(): void {
  notice = null;
}

/** The answer of an admin write while a move is under way. */
export async function refuseDuringMove(env: Env): Promise<void> {
  const move = await activeMove(env, { fresh: true });
  if (move) throw new ApiError("conflict", `Slots ${move.fromSlot}-${move.toSlot} are moving from ${move.fromBinding} to ${move.toBinding} (move ${move.id}, ${move.state}): try again once it has finished`);
}
