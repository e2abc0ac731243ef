/**
 * A generic inbound webhook source (a CRM, a point-of-sale system): how its requests are verified
 * and how each payload becomes Segment messages, declared through `/v1/sources/{id}` (admin).
 *
 *   {
 *     "name": "Store POS",
 *     "signature": { "type": "hmac-sha256", "header": "X-Pos-Signature", "encoding": "hex", "prefix": "sha256=",
 *                    "secretNames": ["POS_WEBHOOK_SECRET"] },
 *     "items": "data.events",                         optional: where the payload's list of items is
 *     "id": { "path": "event_id" },                   optional: the item's unique id (retries count once)
 *     "mappings": [
 *       { "when": [{ "property": "kind", "op": "eq", "value": "sale" }],
 *         "message": { "type": "track", "event": "Order Completed", "email": { "path": "customer.email" },
 *                      "properties": { "order_id": { "path": "receipt" }, "revenue": { "path": "total", "as": "number" } } } }
 *     ]
 *   }
 *
 * A value is a constant, or `{ "path": "a.b.0.c" }` read from the item (`as` converts it). The
 * first mapping whose `when` holds applies; an item none applies to is quarantined with the reason.
 * Secrets are Worker secrets named here, never stored in D1; a comma in one means several (rotation).
 */
import { z } from "zod";
import { PropertyFilter } from "../../model/rules";

export const SourceId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be 1-64 lower-case letters, digits or -, starting with a letter or digit");

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must be the name of a Worker secret (upper case, digits, _)");

export const Value = z.union([
  z.string().max(1_000),
  z.number(),
  z.boolean(),
  z.object({ path: z.string().min(1).max(200), as: z.enum(["string", "number", "boolean", "datetime"]).optional() }).strict(),
]);
export type Value = z.infer<typeof Value>;

const Values = z.record(z.string().min(1).max(100), Value);

export const MessageMapping = z
  .object({
    type: z.enum(["track", "identify"]),
    event: Value.optional(),
    userId: Value.optional(),
    anonymousId: Value.optional(),
    /** Identifies the customer by email (as `context.traits.email`). */
    email: Value.optional(),
    /** Identifies the customer by an id of this system (`context.externalIds`). */
    externalId: z.object({ type: z.string().min(1).max(100), value: Value }).optional(),
    timestamp: Value.optional(),
    /** The record's own update time: an older version never overwrites a newer trait. */
    sourceUpdatedAt: Value.optional(),
    properties: Values.optional(),
    traits: Values.optional(),
  })
  .refine((m) => m.type !== "track" || m.event !== undefined, { message: "a track message needs an event", path: ["event"] })
  .refine((m) => m.userId !== undefined || m.anonymousId !== undefined || m.email !== undefined || m.externalId !== undefined, { message: "needs one of userId, anonymousId, email or externalId", path: ["userId"] });

export const Signature = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hmac-sha256"),
    header: z.string().min(1).max(100),
    encoding: z.enum(["hex", "base64"]).default("hex"),
    /** Text before the MAC in the header (`sha256=`). */
    prefix: z.string().max(50).default(""),
    secretNames: z.array(SecretName).min(1).max(4),
  }),
  /** A shared token in a header (`Authorization: Bearer …` when header is authorization). */
  z.object({ type: z.literal("token"), header: z.string().min(1).max(100).default("authorization"), secretNames: z.array(SecretName).min(1).max(4) }),
  /**
   * An ECDSA P-256 / SHA-256 signature (base64, DER) of the timestamp header's value followed by the
   * raw body, verified with public keys (base64 SPKI) held in the named secrets: SendGrid's Signed
   * Event Webhook (`X-Twilio-Email-Event-Webhook-Signature` / `…-Timestamp`).
   */
  z.object({
    type: z.literal("ecdsa-p256"),
    header: z.string().min(1).max(100).default("x-twilio-email-event-webhook-signature"),
    timestampHeader: z.string().min(1).max(100).default("x-twilio-email-event-webhook-timestamp"),
    secretNames: z.array(SecretName).min(1).max(4),
  }),
]);

export const SourceDefinition = z.object({
  name: z.string().min(1).max(200),
  signature: Signature,
  /** Where the payload's list of items is; `$`: the payload is the list (SendGrid's event webhook). */
  items: z.string().min(1).max(200).optional(),
  id: z.object({ path: z.string().min(1).max(200) }).optional(),
  mappings: z.array(z.object({ when: z.array(PropertyFilter).max(10).default([]), message: MessageMapping })).min(1).max(20),
});
export type SourceDefinition = z.infer<typeof SourceDefinition>;
