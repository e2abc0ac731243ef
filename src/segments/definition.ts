/**
 * A segment, as the admin API (`/v1/segments`) accepts it and as recipe files are written: a name
 * and a rule. A rule is a tree of `all` / `any` / `not` over four kinds of condition:
 *
 *   { "trait": "plan", "op": "eq", "value": "pro" }                       a profile trait
 *   { "computed": "orderCount", "op": "gte", "value": 3 }                 a computed trait
 *   { "event": "Order Completed", "where": [...], "atLeast": 2, "withinDays": 30 }
 *                                                                         did (not) perform an event
 *   { "segment": "vip" }                                                  membership of another segment
 *
 * Comparisons share the grammar of trigger conditions (triggers/definition.ts).
 */
import { z } from "zod";
import { checkValueForOp, EventCondition } from "../model/rules";

export const SegmentId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1-64 lower-case letters, digits, - or _, starting with a letter or digit");

const Op = z.enum(["eq", "neq", "gt", "gte", "lt", "lte", "in", "exists", "not_exists", "contains"]);

/** The computed traits a rule can compare (segments/evaluate.ts says how each is read). */
export const COMPUTED_FIELDS = [
  "orderCount",
  "totalRevenue",
  "averageOrderValue",
  "engagementScore",
  "daysSinceLastOrder",
  "daysSinceFirstOrder",
  "daysSinceLastSeen",
  "daysSinceFirstSeen",
  "favouriteCategory",
  "favouriteBrand",
  "eventCount",
  "purchasePropensity",
  "churnRisk",
  "rfmRecency",
  "rfmFrequency",
  "rfmMonetary",
  "historicalClv",
  "predictedClv",
] as const;
export type ComputedField = (typeof COMPUTED_FIELDS)[number];

/** The fields whose value changes with time alone: rules on them need the daily pass. */
const TIME_FIELDS: readonly ComputedField[] = ["purchasePropensity", "churnRisk", "rfmRecency", "rfmFrequency", "rfmMonetary", "predictedClv", "engagementScore", "daysSinceLastOrder", "daysSinceFirstOrder", "daysSinceLastSeen", "daysSinceFirstSeen"];

/** A comparison of `subject` (what is compared) with `op` and the `value` the op needs. */
const comparison = <S extends z.ZodRawShape>(subject: S) =>
  z.strictObject({ ...subject, op: Op, value: z.unknown().optional() }).superRefine((c, ctx) => checkValueForOp(c as { op: string; value?: unknown }, ctx));

export const TraitCondition = comparison({ trait: z.string().min(1).max(200).describe("Trait name; dots reach into objects (`address.city`)") });

export const ComputedCondition = comparison({
  computed: z.enum(COMPUTED_FIELDS),
  /** For totalRevenue and averageOrderValue: the currency (ISO 4217). Without: the customer's main currency. */
  currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD").optional(),
});

export const SegmentCondition = z.object({ segment: SegmentId });

export const CustomTraitCondition = comparison({ computedTrait: z.string().min(1).max(64).describe("The id of a custom computed trait (/v1/computed-traits)") });

export type TraitCondition = z.infer<typeof TraitCondition>;
export type ComputedCondition = z.infer<typeof ComputedCondition>;
export type Rule =
  | TraitCondition
  | ComputedCondition
  | EventCondition
  | z.infer<typeof SegmentCondition>
  | z.infer<typeof CustomTraitCondition>
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule };

export const Rule: z.ZodType<Rule> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(Rule).min(1).max(50) }).strict(),
    z.object({ any: z.array(Rule).min(1).max(50) }).strict(),
    z.object({ not: Rule }).strict(),
    TraitCondition,
    ComputedCondition,
    EventCondition,
    SegmentCondition.strict(),
    CustomTraitCondition,
  ]),
);

export const SegmentDefinition = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2_000).optional(),
  /** A disabled segment keeps its definition and history but has no members. */
  enabled: z.boolean().default(true),
  rule: Rule,
});
export type SegmentDefinition = z.infer<typeof SegmentDefinition>;

export interface Segment {
  id: string;
  version: number;
  definition: SegmentDefinition;
  /** Memberships recorded before this instant are from an earlier life of the segment: none. */
  membersSince: number;
}

/** Every leaf condition of a rule, depth first. */
export function conditionsOf(rule: Rule): Exclude<Rule, { all: Rule[] } | { any: Rule[] } | { not: Rule }>[] {
  if ("all" in rule) return rule.all.flatMap(conditionsOf);
  if ("any" in rule) return rule.any.flatMap(conditionsOf);
  if ("not" in rule) return conditionsOf(rule.not);
  return [rule];
}

export const eventConditionsOf = (rule: Rule) => conditionsOf(rule).filter((c): c is EventCondition => "event" in c);
export const segmentsReferencedBy = (rule: Rule) => conditionsOf(rule).flatMap((c) => ("segment" in c ? [c.segment] : []));
export const traitsReferencedBy = (rule: Rule) => conditionsOf(rule).flatMap((c) => ("computedTrait" in c ? [c.computedTrait] : []));

/** Can membership change with no event at all, just because days pass? */
export function dependsOnTime(rule: Rule): boolean {
  // A custom computed trait may have a window: counted as depending on time.
  return conditionsOf(rule).some((c) => ("event" in c && c.withinDays !== undefined) || ("computed" in c && TIME_FIELDS.includes(c.computed)) || "computedTrait" in c);
}
