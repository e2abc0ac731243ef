/**
 * Moving a range of slots from one D1 shard to another (docs/scaling.md, "Moving slots"): how a
 * deployment adds a shard, and how one from before shards (every slot in `DB`) spreads out. A
 * chain of jobs on the jobs queue, each one step, with the move's state in the control database
 * (`slot_moves`), so it resumes where it stopped:
 *
 * 1. `events`: every customer of the range whose events are still in its D1 row has them moved
 *    into its object (the pipeline's reevaluation does it), so no event is left to copy;
 * 2. `copying`: table by table, page by page, the range's rows are copied to the target as they
 *    are; then both sides are counted (rows per table, a digest of every customer's id and
 *    version) and the move is `copied` if they agree, `failed` with the difference if not;
 * 3. the operator points the range at the target in `SHARDS` and deploys;
 * 4. `cleaning` (once the live map says so): the range's rows are deleted from the source;
 *    `finished`.
 *
 * The steps run in jobs/slot-move.ts. While a move is under way nothing may write profiles of the range: the event consumer and the
 * jobs that write profiles wait (their messages come back later), admin merges, unmerges and
 * erasures answer 409, and the daily jobs that write profiles skip a day. `npm run shards:move`
 * also pauses the events queue's delivery, so that waiting events do not use up their retries.
 */
import { queueRoles } from "../queues/names";
import { and, count, eq } from "drizzle-orm";
import { database } from "../db/client";
import { customers as customersTable, slotMoves } from "../db/schema";
import { type RangeCount, SHARD_TABLES, type SlotRange } from "../db/slot-copy";
import { d1Binding, SLOTS, shards } from "../db/shards";
import { ApiError } from "../kernel/errors";
import { activeMove, forgetActiveMove, getMove, MOVE_NOTICE_MS, type SlotMove } from "../db/slot-moves";
export { activeMove, getMove, MOVE_NOTICE_MS, type SlotMove } from "../db/slot-moves";
import { newId } from "../kernel/crypto";
import { log } from "../kernel/log";
import type { SlotMoveJob } from "../model/jobs";



export interface MoveRequest {
  from: string;
  to: string;
  slots: SlotRange;
}

/** Starts a move; `enqueue: false` leaves the steps to the caller (tests drive them). */
export async function startMove(env: Env, request: MoveRequest, { now = Date.now(), enqueue = true }: { now?: number; enqueue?: boolean } = {}): Promise<SlotMove> {
  const { from, to, slots } = request;
  if (from === to) throw new ApiError("validation_failed", "from and to are the same binding", [{ field: "to", message: "must differ from `from`" }]);
  if (!(Number.isInteger(slots.from) && Number.isInteger(slots.to) && slots.from >= 0 && slots.to < SLOTS && slots.from <= slots.to)) {
    throw new ApiError("validation_failed", `slots must be a range within 0-${SLOTS - 1}`, [{ field: "slots", message: `a range within 0-${SLOTS - 1}` }]);
  }
  for (const [field, binding] of [["from", from], ["to", to]] as const) {
    try {
      d1Binding(env, binding);
    } catch {
      throw new ApiError("validation_failed", `${binding} is not a D1 binding of this Worker`, [{ field, message: "not a D1 binding" }]);
    }
  }
  const map = shards(env);
  for (let slot = slots.from; slot <= slots.to; slot++) {
    if (map.bindingOfSlot(slot) !== from) throw new ApiError("conflict", `Slot ${slot} is on ${map.bindingOfSlot(slot)}, not ${from}, in SHARDS`);
  }
  if (await activeMove(env, { fresh: true })) throw new ApiError("conflict", "Another slot move is under way; finish it first");
  const move: SlotMove = { id: newId("mov", now), fromBinding: from, toBinding: to, fromSlot: slots.from, toSlot: slots.to, state: "events", tableName: null, cursor: "", copied: "{}", verification: null, error: null, createdAt: now, updatedAt: now, finishedAt: null };
  await database(env.DB).insert(slotMoves).values(move);
  forgetActiveMove();
  if (enqueue) await env.JOBS.send({ v: 1, kind: "slot_move", moveId: move.id } satisfies SlotMoveJob, { delaySeconds: MOVE_NOTICE_MS / 1000 });
  log("info", "shards.move_started", { moveId: move.id, from, to, slots });
  return move;
}


export function differencesOf(source: RangeCount, target: RangeCount): string[] {
  const out: string[] = [];
  for (const [table, n] of Object.entries(source.tables)) {
    const m = target.tables[table] ?? 0;
    if (table === "suppressions" ? m < n : m !== n) out.push(`${table}: ${n} in the source, ${m} in the target`);
  }
  if (source.customersDigest !== target.customersDigest) out.push("customers: the ids and versions differ");
  return out;
}

/**
 * After the operator pointed the range at the target in SHARDS (and deployed): the source's
 * copies are deleted. Refused while the live map still places any slot of the range elsewhere.
 */
export async function finishMove(env: Env, id: string, { now = Date.now(), enqueue = true }: { now?: number; enqueue?: boolean } = {}): Promise<SlotMove> {
  const move = await getMove(env, id);
  if (!move) throw new ApiError("not_found", `No slot move ${id}`);
  if (move.state !== "copied") throw new ApiError("conflict", `Move ${id} is ${move.state}: only a copied move can finish`);
  const map = shards(env);
  for (let slot = move.fromSlot; slot <= move.toSlot; slot++) {
    if (map.bindingOfSlot(slot) !== move.toBinding) throw new ApiError("conflict", `SHARDS still places slot ${slot} on ${map.bindingOfSlot(slot)}: set ${move.toBinding}:${move.fromSlot}-${move.toSlot} in SHARDS and deploy first`);
  }
  await database(env.DB)
    .update(slotMoves)
    .set({ state: "cleaning", tableName: SHARD_TABLES[0]!.name, cursor: null, updatedAt: now })
    .where(and(eq(slotMoves.id, id), eq(slotMoves.state, "copied")));
  if (enqueue) await env.JOBS.send({ v: 1, kind: "slot_move", moveId: id } satisfies SlotMoveJob);
  return (await getMove(env, id))!;
}

/** A move as the admin API shows it: its copy counts and verification parsed. */
export function moveView(move: SlotMove) {
  return {
    id: move.id,
    from: move.fromBinding,
    to: move.toBinding,
    slots: `${move.fromSlot}-${move.toSlot}`,
    state: move.state,
    table: move.tableName,
    copied: JSON.parse(move.copied) as Record<string, number>,
    verification: move.verification ? (JSON.parse(move.verification) as unknown) : null,
    error: move.error,
    createdAt: new Date(move.createdAt).toISOString(),
    updatedAt: new Date(move.updatedAt).toISOString(),
    finishedAt: move.finishedAt ? new Date(move.finishedAt).toISOString() : null,
  };
}

/** The shard map as it is: each binding's slot ranges and how many customers it holds. */
export async function shardReport(env: Env) {
  const map = shards(env);
  const ranges: { binding: string; slots: string }[] = [];
  for (let slot = 0; slot < SLOTS; ) {
    const binding = map.bindingOfSlot(slot);
    let end = slot;
    while (end + 1 < SLOTS && map.bindingOfSlot(end + 1) === binding) end++;
    ranges.push({ binding, slots: `${slot}-${end}` });
    slot = end + 1;
  }
  const customers = await Promise.all(map.bindings.map(async (binding, i) => ({ binding, customers: (await database(map.databases[i]!).select({ n: count() }).from(customersTable).get())?.n ?? 0 })));
  const move = await activeMove(env, { fresh: true });
  // The events queues by name: an operator pauses their delivery while a move copies (scripts/shards-move.mjs).
  const eventQueues = [...queueRoles(env)].filter(([, role]) => role === "events").map(([name]) => name);
  return { slots: SLOTS, ranges, customers, eventQueues, move: move ? moveView(move) : null };
}
