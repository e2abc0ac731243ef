/**
 * The shards of profiles and identifiers (admin keys): the slot map as it is, and moves of slot
 * ranges between D1 shards (maintenance/slot-moves.ts; `npm run shards:move` drives them).
 */
import { z } from "zod";
import type { App } from "../api/app";
import { route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { finishMove, getMove, moveView, shardReport, startMove } from "../maintenance/slot-moves";

const TAG = "Admin";
const MoveRequest = z.object({
  from: z.string().min(1).describe("The D1 binding the slots are on now, e.g. DB"),
  to: z.string().min(1).describe("The D1 binding they move to, e.g. SHARD_1"),
  slots: z
    .string()
    .regex(/^\d+-\d+$/, "a range of slots, e.g. 512-1023")
    .describe("The range of slots, both ends included"),
});
const MoveId = z.object({ id: z.string() });

export function registerShardRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/admin/shards", tag: TAG, scope: "admin", summary: "The slot map (SHARDS): each D1 shard's slots and customers, and the move under way", responses: { 200: "The shards" } }, async (c) =>
    c.json(await shardReport(c.env), 200, { "cache-control": "no-store" }),
  );

  route(
    app,
    {
      method: "post",
      path: "/v1/admin/shards/moves",
      tag: TAG,
      scope: "admin",
      summary: "Start moving a range of slots to another D1 shard: copied and verified by jobs; profile writers wait meanwhile",
      body: MoveRequest,
      responses: { 202: "The move", 400: "Not a binding, or not a range", 409: "The map does not place the range on `from`, or a move is under way" },
    },
    async (c, { body }) => {
      const [from, to] = body.slots.split("-").map(Number) as [number, number];
      return c.json(moveView(await startMove(c.env, { from: body.from, to: body.to, slots: { from, to } })), 202);
    },
  );

  route(app, { method: "get", path: "/v1/admin/shards/moves/{id}", tag: TAG, scope: "admin", summary: "A slot move: its state, what it copied, its verification", params: MoveId, responses: { 200: "The move", 404: "No such move" } }, async (c, { params: { id } }) => {
    const move = await getMove(c.env, id);
    if (!move) throw new ApiError("not_found", `No slot move ${id}`);
    return c.json(moveView(move), 200, { "cache-control": "no-store" });
  });

  route(
    app,
    {
      method: "post",
      path: "/v1/admin/shards/moves/{id}/finish",
      tag: TAG,
      scope: "admin",
      summary: "After SHARDS places the range on the target (deployed): delete the source's copies and end the move",
      params: MoveId,
      responses: { 202: "Cleaning", 404: "No such move", 409: "Not copied yet, or SHARDS still places the range on the source" },
    },
    async (c, { params: { id } }) => c.json(moveView(await finishMove(c.env, id)), 202),
  );
}
