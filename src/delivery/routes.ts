/**
 * The delivery log of fired triggers (admin keys): list by trigger, customer or status, look at
 * one (with the message sent), replay one that died or was rejected; and a customer's pending
 * timers and trigger history, as its session object holds them.
 */
import { z } from "zod";
import type { App } from "../app";
import { database } from "../db/client";
import { requireKey } from "../http/auth";
import { ApiError } from "../kernel/errors";
import { parseInput } from "../http/validation";
import { resolveCurrentCustomerId } from "../profiles/read";
import { sessionStub } from "../sessions/contract";
import { getDelivery, listDeliveries, replayDelivery } from "./store";
import { isoOrNull } from "../kernel/time";

export const DeliveriesQuery = z.object({
  triggerId: z.string().max(64).optional(),
  customerId: z.string().max(200).optional(),
  status: z.enum(["queued", "retrying", "delivered", "rejected", "dead"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.iso.datetime({ offset: true }).optional().describe("The `next` cursor of the previous page"),
});


export function registerDeliveryRoutes(app: App): void {
  app.use("/v1/deliveries", requireKey("admin"));
  app.use("/v1/deliveries/*", requireKey("admin"));

  const list = async (db: ReturnType<typeof database>, q: z.infer<typeof DeliveriesQuery>) => {
    const items = await listDeliveries(db, { ...q, before: q.before ? Date.parse(q.before) : undefined });
    return { deliveries: items, next: items.length === q.limit ? items[items.length - 1]!.firedAt : null };
  };

  app.get("/v1/deliveries", async (c) => c.json(await list(database(c.env.DB), parseInput(DeliveriesQuery, c.req.query(), "query parameters"))));

  app.get("/v1/triggers/:id/deliveries", async (c) => {
    const q = parseInput(DeliveriesQuery, c.req.query(), "query parameters");
    return c.json(await list(database(c.env.DB), { ...q, triggerId: c.req.param("id") }));
  });

  app.get("/v1/deliveries/:id", async (c) => {
    const delivery = await getDelivery(database(c.env.DB), c.req.param("id"));
    if (!delivery) throw new ApiError("not_found", `No delivery ${c.req.param("id")}`);
    return c.json(delivery);
  });

  app.post("/v1/deliveries/:id/replay", async (c) => {
    const outcome = await replayDelivery(c.env, database(c.env.DB), c.req.param("id"));
    if (!outcome) throw new ApiError("not_found", `No delivery ${c.req.param("id")}`);
    if (outcome === "delivered") throw new ApiError("conflict", "Already delivered: replaying would send it twice");
    return c.json({ id: c.req.param("id"), status: "queued" }, 202);
  });

  // Under /v1/customers (read keys pass the prefix's check), but timers are admin-only.
  app.get("/v1/customers/:id/triggers", requireKey("admin"), async (c) => {
    const ref = c.req.param("id");
    const id = await resolveCurrentCustomerId(c.env, ref, (p) => c.executionCtx.waitUntil(p));
    if (!id) throw new ApiError("not_found", `No customer matches ${JSON.stringify(ref)}`);
    const { timers, firings } = await sessionStub(c.env, id).triggers();
    return c.json({
      customerId: id,
      pending: timers.map((t) => ({ timerId: t.id, triggerId: t.trigger_id, triggerVersion: t.trigger_version, itemKey: t.item_key, startedBy: t.start_event, startedAt: isoOrNull(t.started_at), dueAt: isoOrNull(t.due_at), firesAt: isoOrNull(t.fire_at), items: JSON.parse(t.items) as unknown })),
      history: firings.map((f) => ({ id: f.id, triggerId: f.trigger_id, timerId: f.timer_id, at: isoOrNull(f.at), outcome: f.outcome, reason: f.reason })),
    });
  });
}
