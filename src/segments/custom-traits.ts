/**
 * Custom computed traits, defined through `/v1/computed-traits` in the shapes Segment offers:
 * an event counter, an aggregation (sum, average, minimum, maximum) of a property, the most
 * frequent, first or last value of a property, or the unique values of a property and their
 * count, each over the matching events of an optional window of days.
 *
 * Each is an aggregate (segments/aggregates.ts): kept incrementally by the pipeline, derived once
 * from the stored history for profiles that existed before the trait. Values show in the profile
 * (`computedTraits`) as of its last write, and segment rules compare them (`{ "computedTrait": … }`).
 */
import { z } from "zod";
import { PropertyFilter } from "../model/rules";
import { aggregateSpec, type AggregateKind, type AggregateSpec } from "../profiles/aggregates";

export const CustomTraitId = z.string().regex(/^[a-z0-9][a-z0-9_]{0,63}$/, "must be 1-64 lower-case letters, digits or _, starting with a letter or digit");

export const TRAIT_KINDS = ["counter", "sum", "avg", "min", "max", "most_frequent", "first", "last", "unique_list", "unique_count"] as const;

export const CustomTraitDefinition = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2_000).optional(),
    enabled: z.boolean().default(true),
    kind: z.enum(TRAIT_KINDS),
    event: z.string().min(1).max(200).describe("The track event whose occurrences are aggregated"),
    where: z.array(PropertyFilter).max(10).default([]),
    /** The event property aggregated; dots reach into objects. Every kind but `counter` needs one. */
    property: z.string().min(1).max(200).optional(),
    withinDays: z.number().int().min(1).max(365).optional(),
  })
  .refine((d) => d.kind === "counter" || d.property !== undefined, { message: "is required for every kind but counter", path: ["property"] });
export type CustomTraitDefinition = z.infer<typeof CustomTraitDefinition>;

export interface CustomTrait {
  id: string;
  version: number;
  definition: CustomTraitDefinition;
}

export function traitSpec(d: CustomTraitDefinition): AggregateSpec {
  const kind: AggregateKind = d.kind === "counter" ? "count" : d.kind;
  return aggregateSpec({ kind, event: d.event, where: d.where, property: d.property ?? null, withinDays: d.withinDays ?? null });
}
