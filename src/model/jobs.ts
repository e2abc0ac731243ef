/**
 * The messages of the jobs queue, one schema each: background work fanned out in bounded pieces.
 * Producers build them with these types; the jobs consumer checks every body against `Job` before
 * running it, so a body of an older or unknown shape is set aside with its reason, never guessed at.
 * Each carries `v` so a shape can change while older messages are still queued.
 */
import { z } from "zod";

/** The events a catalog change becomes for the customers who viewed the product (`catalog/changes.ts`). */
export const CATALOG_CHANGE_EVENTS = ["Price Dropped", "Back In Stock"] as const;

export const TimedChange = z.object({
  event: z.enum(CATALOG_CHANGE_EVENTS),
  productId: z.string(),
  /** Properties of the event: the product as now, plus the previous price and the drop. */
  properties: z.record(z.string(), z.unknown()),
  /** When the catalog changed (ms): the time of the events it produces. */
  at: z.number(),
});
export type TimedChange = z.infer<typeof TimedChange>;

/** A catalog change: first paged over the product's viewers (`after`), then sent to groups of them. */
export const CatalogJob = z.discriminatedUnion("kind", [
  z.object({ v: z.literal(1), kind: z.literal("catalog_fanout"), change: TimedChange, after: z.string() }),
  z.object({ v: z.literal(1), kind: z.literal("catalog_notify"), change: TimedChange, customerIds: z.array(z.string()) }),
]);
export type CatalogJob = z.infer<typeof CatalogJob>;

/** Computed traits for profiles no event has touched since the traits were defined, a page at a time. */
export const BackfillJob = z.object({ v: z.literal(1), kind: z.literal("computed_backfill"), after: z.string() });
export type BackfillJob = z.infer<typeof BackfillJob>;

/** One page of a segment evaluation pass over every profile. */
export const PassJob = z.object({ v: z.literal(1), kind: z.literal("segment_pass"), runId: z.string(), after: z.string() });
export type PassJob = z.infer<typeof PassJob>;

/** One page of a day of the R2 archive, replayed through the pipeline. */
export const ReplayJob = z.object({ v: z.literal(1), kind: z.literal("archive_replay"), replayId: z.string(), day: z.string(), cursor: z.string() });
export type ReplayJob = z.infer<typeof ReplayJob>;

/** An erasure's scrub of the archive: its progress is a D1 row, so the message carries only its id. */
export const ScrubJob = z.object({ v: z.literal(2), kind: z.literal("archive_scrub"), scrubId: z.string() });
export type ScrubJob = z.infer<typeof ScrubJob>;

/** The scrub job of versions before the progress row: it carried everything. Still taken, once, on upgrade. */
export const LegacyScrubJob = z.object({
  v: z.literal(1),
  kind: z.literal("archive_scrub"),
  customerId: z.string(),
  keys: z.array(z.string()),
  day: z.string(),
  toDay: z.string(),
  cursor: z.string(),
});
export type LegacyScrubJob = z.infer<typeof LegacyScrubJob>;

/** A customer to look up with an enricher: the key it is looked up by, and how its answer finds the customer again. */
export const EnrichItem = z.object({
  customerId: z.string(),
  /** What is looked up: the email domain, or the email. */
  key: z.string(),
  /** How the answer finds the customer again: its userId, else its email. */
  userId: z.string().optional(),
  email: z.string().optional(),
});
export type EnrichItem = z.infer<typeof EnrichItem>;

export const EnrichJob = z.object({
  v: z.literal(1),
  kind: z.literal("enrich"),
  enricherId: z.string(),
  items: z.array(EnrichItem),
  /** 1 for the first try of these items; failed lookups come back with the next. */
  attempt: z.number().int().min(1),
});
export type EnrichJob = z.infer<typeof EnrichJob>;

/** One step of a move of slots between D1 shards (maintenance/slot-move.ts): the move's row says which. */
export const SlotMoveJob = z.object({ v: z.literal(1), kind: z.literal("slot_move"), moveId: z.string() });
export type SlotMoveJob = z.infer<typeof SlotMoveJob>;

/** Both versions of the scrub job, told apart by `v`. */
export const ScrubJobs = z.discriminatedUnion("v", [ScrubJob, LegacyScrubJob]);

/** Every message of the jobs queue, told apart by `kind` (then `v`), so a bad body's error names its field. */
export const Job = z.discriminatedUnion("kind", [CatalogJob, BackfillJob, PassJob, ReplayJob, ScrubJobs, EnrichJob, SlotMoveJob]);
export type Job = z.infer<typeof Job>;
