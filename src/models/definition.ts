/**
 * A published predictive model: which score it gives, the features it reads (models/features.ts)
 * and its coefficients, with what training measured. `npm run train` produces them; the worker
 * applies the current version of each to every profile it writes.
 */
import { z } from "zod";
import { FEATURES } from "./features";
import { MODEL_NAMES, type ModelName } from "../model/scores";

export const ModelNameSchema = z.enum(MODEL_NAMES);

const finite = z.number().refine(Number.isFinite, "must be a finite number");

export const ModelUpload = z
  .object({
    features: z.array(z.string()).refine((f) => f.length === FEATURES.length && f.every((name, i) => name === FEATURES[i]), `must be the worker's features, in order: ${FEATURES.join(", ")}`),
    means: z.array(finite).length(FEATURES.length),
    stds: z.array(finite.refine((v) => v > 0, "must be positive")).length(FEATURES.length),
    weights: z.array(finite).length(FEATURES.length),
    bias: finite,
    /** What training measured on the held-out period. */
    metrics: z.object({ auc: z.number().min(0).max(1), trainRows: z.number().int(), holdoutRows: z.number().int(), positiveRate: z.number().min(0).max(1) }).catchall(z.unknown()),
    trainedAt: z.iso.datetime({ offset: true }),
    /** The cutoffs of the time split, for the record. */
    trainCutoff: z.iso.datetime({ offset: true }),
    holdoutCutoff: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ModelUpload = z.infer<typeof ModelUpload>;

export interface Model extends ModelUpload {
  name: ModelName;
  version: number;
  publishedAt: string;
}
