/**
 * An experiment as `PUT /v1/experiments/{id}` accepts it (docs/experiments.md): a content block,
 * two or more variants (each another published block, or the same block with other slot values
 * such as a subject line), their weights, an optional holdout, the metric that decides and the
 * rules of the decision. The first variant is the control.
 */
import { z } from "zod";
import { BlockId } from "../model/block-id";
import { HOLDOUT } from "./assignment";

export const ExperimentId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1-64 characters: a-z, 0-9, - and _, starting with a letter or digit");

const VariantKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be 1-32 characters: a-z, 0-9, - and _")
  .refine((k) => k !== HOLDOUT, `"${HOLDOUT}" names the holdout`);

export const ExperimentVariant = z
  .object({
    key: VariantKey,
    weight: z.number().min(0).max(10_000).default(1),
    /** The block rendered for this variant; the experiment's block when not set. */
    block: BlockId.optional(),
    /** Values the templates read as `experiment.slots.<name>` (subject line, hero image URL, offer). */
    slots: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), z.string().max(2_000)).default({}),
  })
  .strict();

/** What decides: customers who converted, customers who clicked, or revenue per exposed customer. */
export const METRICS = ["conversion", "click", "revenue"] as const;
export const STATUSES = ["draft", "running", "paused", "stopped"] as const;

export const ExperimentDefinition = z
  .object({
    description: z.string().max(500).optional(),
    /** The block the ESP's links name; its renders are split between the variants. */
    block: BlockId,
    variants: z
      .array(ExperimentVariant)
      .min(2)
      .max(10)
      .refine((vs) => new Set(vs.map((v) => v.key)).size === vs.length, "variant keys must be unique")
      .refine((vs) => vs.some((v) => v.weight > 0), "at least one variant needs a positive weight"),
    /** Share of customers served the block's non-personalized fallback instead (0 to 0.5). */
    holdout: z.number().min(0).max(0.5).default(0),
    /** The hash seed; the experiment id when not set. Changing it reassigns everybody not yet exposed. */
    seed: z.string().min(1).max(64).optional(),
    metric: z
      .object({
        primary: z.enum(METRICS).default("conversion"),
        /** The event that is a conversion, counted within the window after exposure. */
        event: z.string().min(1).max(200).default("Order Completed"),
        windowHours: z.number().int().min(1).max(2_160).default(168),
        /** Reduce variance with each customer's pre-exposure value of the metric (CUPED), where it varies. */
        cuped: z.boolean().default(true),
      })
      .strict()
      .default({ primary: "conversion", event: "Order Completed", windowHours: 168, cuped: true }),
    /** The false-positive rate of the whole experiment (split across the variants compared with the control). */
    alpha: z.number().min(0.001).max(0.2).default(0.05),
    /** No decision before every arm has this many exposed customers (Klaviyo asks for 500). */
    minSamplePerArm: z.number().int().min(10).max(10_000_000).default(500),
    /** Exposed customers per arm the test is tuned for (mixture SPRT's prior): where it is most sensitive. */
    expectedSamplePerArm: z.number().int().min(100).max(100_000_000).default(5_000),
    /** Pause the experiment (everyone gets the control) when a sample-ratio mismatch is found. */
    pauseOnSampleRatioMismatch: z.boolean().default(true),
    /** Serve the significant winner to everybody as soon as one is found. */
    autoShip: z.boolean().default(false),
    status: z.enum(STATUSES).default("draft"),
    /**
     * Bandit mode: the split follows Thompson sampling (experiments/bandit.ts) instead of the
     * weights, updated as exposures and outcomes arrive. Decided by the chance of being best.
     */
    bandit: z
      .object({
        /** Equal split until every variant has this many exposed customers. */
        burnInPerArm: z.number().int().min(10).max(100_000).default(100),
        /** No variant's share falls below this (so a change in fortunes can still be seen). */
        floor: z.number().min(0).max(0.1).default(0.01),
        /** The split served is rewritten at most this often. */
        updateSeconds: z.number().int().min(10).max(86_400).default(60),
      })
      .strict()
      .optional(),
    /** Set by a ship (by hand or automatically): every customer gets this variant, nothing more is counted. */
    winner: VariantKey.optional(),
  })
  .strict()
  .refine((d) => d.winner === undefined || d.variants.some((v) => v.key === d.winner), { message: "winner must be one of the variants", path: ["winner"] });
export type ExperimentDefinition = z.infer<typeof ExperimentDefinition>;
export type ExperimentInput = z.input<typeof ExperimentDefinition>;

/** Does this experiment split renders now? (A shipped one serves its winner; a paused one its control.) */
export const isLive = (d: ExperimentDefinition) => d.status === "running" && d.winner === undefined;
