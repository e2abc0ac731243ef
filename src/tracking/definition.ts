/**
 * A tracking plan: what a source (a write key, `shopify`, `source:<id>`) is expected to send, as
 * a JSON Schema per event name (for track's `properties`), one for identify's `traits` and one for
 * page and screen `properties`; and what happens to events the plan does not name and to events
 * that break it. Managed through `/v1/tracking-plans/{id}` (admin) or loaded from files
 * (`npx rapport plans load tracking-plans/`). docs/tracking-plans.md.
 *
 *   {
 *     "sources": ["key_storefront"],           the write key ids (or `shopify`, `source:crm`, `*`)
 *     "unplannedEvents": "flag",               track events the plan does not name
 *     "violations": "drop",                    events whose properties break their schema
 *     "events": { "Product Viewed": { "type": "object", "required": ["product_id"],
 *                 "properties": { "product_id": { "type": "string" }, "price": { "type": "number", "minimum": 0 } } } },
 *     "identify": { "type": "object", "properties": { "email": { "type": "string", "format": "email" } } }
 *   }
 */
import { z } from "zod";

/**
 * - `allow`: the event goes through unchanged; the violation is recorded and counted.
 * - `flag`: it goes through marked (`context.trackingPlan`), and is recorded.
 * - `drop`: the properties at fault are removed (all of an unplanned event's), the rest goes
 *   through marked, and is recorded.
 * - `quarantine`: the event is kept in the quarantine with its violations, not processed.
 */
export const Policy = z.enum(["allow", "flag", "drop", "quarantine"]);
export type Policy = z.infer<typeof Policy>;

export const PlanId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be 1-64 lower-case letters, digits or -, starting with a letter or digit")
  .refine((id) => id !== "violations", "is reserved (/v1/tracking-plans/violations lists violations)");

/** Any source, or one named: a write key id, `shopify`, `source:<id>` of a declared source. */
export const DEFAULT_SOURCE = "*";
const SourceRef = z.string().min(1).max(200);

/** A JSON Schema (draft 2020-12) is an object or a boolean; the validator checks the rest. */
const JsonSchema = z.union([z.boolean(), z.record(z.string(), z.unknown())]);
export type JsonSchema = z.infer<typeof JsonSchema>;

export const TrackingPlan = z
  .object({
    description: z.string().max(1_000).optional(),
    sources: z.array(SourceRef).min(1).max(100),
    unplannedEvents: Policy.default("allow"),
    violations: Policy.default("flag"),
    events: z.record(z.string().min(1).max(200), JsonSchema).default({}),
    identify: JsonSchema.optional(),
    page: JsonSchema.optional(),
  })
  .strict()
  .refine((p) => new Set(p.sources).size === p.sources.length, { message: "lists a source twice", path: ["sources"] })
  .refine((p) => Object.keys(p.events).length <= 1_000, { message: "must name at most 1,000 events", path: ["events"] });
export type TrackingPlan = z.infer<typeof TrackingPlan>;
