/**
 * The delivery log of fired triggers (admin keys): list by trigger, customer or status, look at
 * one (with the message sent), replay one that died or was rejected; and a customer's pending
 * timers and trigger history, as its session object holds them.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
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

const TAG = "Triggers";

export function registerDeliveryRoutes(app: App): void {
  const list = async (d1: D1Database, q: z.infer<typeof DeliveriesQuery>) => {
    const items = await listDeliveries(d1, { ...q, before: q.before ? Date.parse(q.before) : undefined });
    return { deliveries: items, next: items.length === q.limit ? items[items.length - 1]!.firedAt : null };
  };

  route(app, { method: "get", path: "/v1/deliveries", tag: TAG, scope: "admin", summary: "The delivery log of fired triggers, newest first", query: DeliveriesQuery, responses: { 200: "A page, and the `next` cursor" } }, async (c, { query }) =>
    c.json(await list(c.env.DB, query)),
  );

  route(app, { method: "get", path: "/v1/triggers/{id}/deliveries", tag: TAG, scope: "admin", summary: "The delivery log of a trigger", params: IdParam, query: DeliveriesQuery, responses: { 200: "A page, and the `next` cursor" } }, async (c, { params: { id }, query }) =>
    c.json(await list(c.env.DB, { ...query, triggerId: id })),
  );

  route(app, { method: "get", path: "/v1/deliveries/{id}", tag: TAG, scope: "admin", summary: "One delivery, with the message sent", params: IdParam, responses: { 200: "The delivery", 404: "No such delivery" } }, async (c, { params: { id } }) => {
    const delivery = await getDelivery(c.env.DB, id);
    if (!delivery) throw new ApiError("not_found", `No delivery ${id}`);
    return c.json(delivery);
  });

  route(app, { method: "post", path: "/v1/deliveries/{id}/replay", tag: TAG, scope: "admin", summary: "Queue a rejected or dead delivery again (same delivery id)", params: IdParam, responses: { 202: "Queued", 404: "No such delivery", 409: "Already delivered" } }, async (c, { params: { id } }) => {
    const outcome = await replayDelivery(c.env, id);
    if (!outcome) throw new ApiError("not_found", `No delivery ${id}`);
    if (outcome === "delivered") throw new ApiError("conflict", "Already delivered: replaying would send it twice");
    return c.json({ id, status: "queued" }, 202);
  });

  // Under /v1/customers, where read keys may go, but timers are admin-only.
  route(app, { method: "get", path: "/v1/customers/{id}/triggers", tag: TAG, scope: "admin", summary: "A customer's pending trigger timers and trigger history (sent, capped, deferred…)", params: IdParam, responses: { 200: "Timers and history", 404: "No such customer" } }, async (c, { params: { id: ref } }) => {
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
