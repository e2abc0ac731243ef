/**
 * Zod schemas of the Segment HTTP Tracking API messages. They are the single definition used by
 * the routes, the OpenAPI document and the tests.
 */
import { z } from "zod";
import { EVENT_TYPES } from "../model/events";

const isoDateTime = z
  .string()
  .max(64)
  .refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: "must be an ISO-8601 date-time",
  });

/** Segment accepts numeric ids; they are stored as strings. */
const id = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, "must not be empty").max(1024));

/**
 * A JSON object (context, properties, traits, integrations), taken as it is: a record schema would
 * check every key and copy the object, for each of them in every message, and ingest would pay
 * that on every event without learning anything (JSON keys are strings).
 */
const object = z
  .custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "must be an object" })
  .meta({ type: "object", additionalProperties: {} });

const common = {
  messageId: z.string().min(1).max(256).optional(),
  userId: id.optional(),
  anonymousId: id.optional(),
  context: object.optional(),
  integrations: object.optional(),
  timestamp: isoDateTime.optional(),
  originalTimestamp: isoDateTime.optional(),
  sentAt: isoDateTime.optional(),
};

function requireIdentity<T extends { userId?: string; anonymousId?: string }>(m: T, ctx: z.RefinementCtx) {
  if (!m.userId && !m.anonymousId) {
    ctx.addIssue({ code: "custom", path: ["userId"], message: "is required, or else anonymousId" });
  }
}

export const TrackMessage = z
  .looseObject({ ...common, type: z.literal("track").optional(), event: z.string().trim().min(1).max(512), properties: object.optional() })
  .superRefine(requireIdentity);
export const IdentifyMessage = z
  .looseObject({ ...common, type: z.literal("identify").optional(), traits: object.optional() })
  .superRefine(requireIdentity);
export const PageMessage = z
  .looseObject({ ...common, type: z.literal("page").optional(), name: z.string().max(512).optional(), category: z.string().max(512).optional(), properties: object.optional() })
  .superRefine(requireIdentity);
export const ScreenMessage = z
  .looseObject({ ...common, type: z.literal("screen").optional(), name: z.string().max(512).optional(), category: z.string().max(512).optional(), properties: object.optional() })
  .superRefine(requireIdentity);
export const GroupMessage = z
  .looseObject({ ...common, type: z.literal("group").optional(), groupId: id, traits: object.optional() })
  .superRefine(requireIdentity);
export const AliasMessage = z.looseObject({ ...common, type: z.literal("alias").optional(), userId: id, previousId: id });

export const MESSAGE_SCHEMAS = {
  track: TrackMessage,
  identify: IdentifyMessage,
  page: PageMessage,
  screen: ScreenMessage,
  group: GroupMessage,
  alias: AliasMessage,
} as const;

export type TrackMessage = z.infer<typeof TrackMessage>;
export type AnyMessage = z.infer<(typeof MESSAGE_SCHEMAS)[keyof typeof MESSAGE_SCHEMAS]>;

export const EventTypeSchema = z.enum(EVENT_TYPES);

/** `POST /v1/batch`: batch-level `context`, `integrations` and `sentAt` apply to every item. */
export const BatchRequest = z.looseObject({
  batch: z.array(z.unknown()),
  context: object.optional(),
  integrations: object.optional(),
  sentAt: isoDateTime.optional(),
  writeKey: z.string().optional(),
});
export type BatchRequest = z.infer<typeof BatchRequest>;

/**
 * What ingest answers: Segment's `{ success: true }`, plus what was refused in a batch and what
 * the source's tracking plan found (docs/tracking-plans.md).
 */
export const IngestResponse = z.object({
  success: z.literal(true),
  accepted: z.number().int().describe("Messages accepted: they go on to profiles"),
  quarantined: z.number().int().describe("Messages kept in the quarantine instead: invalid ones (listed in `rejected`) and those the tracking plan quarantines"),
  rejected: z
    .array(z.object({ index: z.number().int(), messageId: z.string().optional(), errors: z.array(z.object({ field: z.string(), message: z.string() })) }))
    .optional(),
  trackingPlan: z
    .object({
      plan: z.string(),
      violations: z.array(z.object({ messageId: z.string(), action: z.enum(["allowed", "flagged", "dropped", "quarantined"]), violations: z.array(z.object({ path: z.string(), rule: z.string(), message: z.string() })) })),
    })
    .optional()
    .describe("At most 100 listed"),
});
export type IngestResponse = z.infer<typeof IngestResponse>;
