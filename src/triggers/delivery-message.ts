/**
 * What travels on the outbound queue for one fired trigger, and the JSON body a webhook
 * destination receives (the `rapport` format; see formats.ts for the ESP shapes).
 */
import { z } from "zod";
import type { CustomerProfile } from "../profiles/document";
import type { Product } from "../model/products";
import type { TriggerDefinition } from "./definition";

export interface TriggerFiredPayload {
  /** The delivery id, also sent as the `Idempotency-Key` header: the same for every retry. */
  id: string;
  type: "trigger.fired";
  trigger: { id: string; version: number; name: string };
  customer: CustomerProfile;
  /** The products involved: the one viewed, the cart's or the order's. */
  items: Product[];
  startedBy: { event: string; messageId: string; timestamp: string };
  dueAt: string;
  firedAt: string;
}

export interface DeliveryMessage {
  v: 1;
  deliveryId: string;
  customerId: string;
  destination: TriggerDefinition["destination"];
  payload: TriggerFiredPayload;
}

/**
 * The deliveries queue's check of a body: the fields the consumer reads before anything else. The
 * payload was built by the session object from a validated trigger and profile; what is checked here
 * is that the body is this version's message at all.
 */
export const DeliveryMessageSchema: z.ZodType<DeliveryMessage> = z.looseObject({
  v: z.literal(1),
  deliveryId: z.string(),
  customerId: z.string(),
  destination: z.looseObject({ url: z.string() }),
  payload: z.looseObject({ id: z.string(), type: z.literal("trigger.fired"), trigger: z.looseObject({ id: z.string() }), dueAt: z.string() }),
}) as unknown as z.ZodType<DeliveryMessage>;
