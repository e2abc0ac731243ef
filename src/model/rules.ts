/**
 * The rule language shared by triggers, segments, computed traits and enrichers: a property or
 * trait compared with a value (`{ "property": "price", "op": "gte", "value": 20 }`), values reached
 * by dotted paths. Pure.
 */
import { z } from "zod";

/**
 * What each comparison needs as its `value`, checked when a rule is saved: a condition without the
 * value its operator compares with would match every profile (`eq` against nothing) or none, and
 * a typo must never put everyone in a segment and start triggers.
 */
export function checkValueForOp(c: { op: string; value?: unknown }, ctx: z.RefinementCtx): void {
  const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["value"], message, input: c.value });
  if (c.op === "exists" || c.op === "not_exists") {
    if (c.value !== undefined) issue(`must be left out with op "${c.op}" (it compares with nothing)`);
    return;
  }
  if (c.value === undefined) issue(`is required with op "${c.op}"`);
  else if (c.op === "in" && (!Array.isArray(c.value) || c.value.length === 0)) issue(`must be a non-empty list with op "in"`);
  else if (["gt", "gte", "lt", "lte"].includes(c.op) && !(typeof c.value === "number" || (typeof c.value === "string" && c.value.trim() !== "" && Number.isFinite(Number(c.value))))) {
    issue(`must be a number with op "${c.op}"`);
  }
}

/** A property comparison on the starting event, e.g. `{ "property": "price", "op": "gte", "value": 20 }`. */
export const PropertyFilter = z
  .object({
    property: z.string().min(1).max(200).describe("Property name; dots reach into objects (`product.category`)"),
    op: z.enum(["eq", "neq", "gt", "gte", "lt", "lte", "in", "exists", "contains"]),
    value: z.unknown().optional(),
  })
  .superRefine(checkValueForOp);
export type PropertyFilter = z.infer<typeof PropertyFilter>;

/** A value reached by a dotted path (`product.category`) inside an object. */
export function valueAt(source: unknown, path: string): unknown {
  let value: unknown = source;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** One comparison; the shared grammar of property filters and profile conditions. */
export function compare(actual: unknown, op: PropertyFilter["op"] | "not_exists", expected: unknown): boolean {
  switch (op) {
    case "exists":
      return actual !== undefined && actual !== null && actual !== "";
    case "not_exists":
      return actual === undefined || actual === null || actual === "";
    case "eq":
      return actual === expected;
    case "neq":
      return actual !== expected;
    case "in":
      return Array.isArray(expected) && expected.includes(actual);
    case "contains":
      if (Array.isArray(actual)) return actual.includes(expected);
      return typeof actual === "string" && typeof expected === "string" && actual.includes(expected);
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const [a, b] = [Number(actual), Number(expected)];
      if (actual === null || actual === undefined || Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === "gt" ? a > b : op === "gte" ? a >= b : op === "lt" ? a < b : a <= b;
    }
  }
}

/** Did (not) perform an event: how many matching events, within how many days (segment rules, custom traits, aggregates). */
export const EventCondition = z
  .object({
    event: z.string().min(1).max(200).describe("A track event name"),
    where: z.array(PropertyFilter).max(10).default([]),
    /** At least this many matching events (default 1). */
    atLeast: z.number().int().min(1).max(1_000_000).optional(),
    /** At most this many: `atMost: 0` is "did not perform". */
    atMost: z.number().int().min(0).max(1_000_000).optional(),
    /** Only events of the last N days count (whole UTC days: today and the N days before). Without: ever. */
    withinDays: z.number().int().min(1).max(365).optional(),
  })
  .refine((c) => c.atLeast === undefined || c.atMost === undefined || c.atLeast <= c.atMost, { message: "atLeast must not exceed atMost", path: ["atMost"] });
export type EventCondition = z.infer<typeof EventCondition>;
