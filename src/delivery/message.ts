/**
 * What travels on the outbound queue for one fired trigger, and the JSON body a webhook
 * destination receives (the `rapport` format; see formats.ts for the ESP shapes).
 */
import type { CustomerProfile } from "../profiles/document";
import type { Product } from "../model/products";
import type { TriggerDefinition } from "../triggers/definition";

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

export function isDeliveryMessage(body: unknown): body is DeliveryMessage {
  const m = body as DeliveryMessage | null;
  return typeof m === "object" && m !== null && m.v === 1 && typeof m.deliveryId === "string" && typeof m.destination?.url === "string" && typeof m.payload === "object";
}
