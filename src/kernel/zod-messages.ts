/**
 * The messages of validation errors, for every schema: they follow a field path in problem+json
 * (`batch[2].event is required`), so each says what was expected, in words, without repeating the
 * field. Zod's own ("Invalid input: expected string, received undefined") are for developers of
 * the schema, not for its callers. Messages a schema gives itself are kept.
 */
import { z } from "zod";

/** The message of a field that is absent (the union explainer in validation.ts weighs it). */
export const MISSING = "is required";

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const EXPECTED: Record<string, string> = { int: "whole number", record: "object", nonoptional: "value" };

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : typeof value === "number" ? "a number" : typeof value === "string" ? "a string" : String(typeof value);
}

z.config({
  customError: (issue) => {
    switch (issue.code) {
      case "invalid_type":
        if (issue.input === undefined) return MISSING;
        return `must be ${article(EXPECTED[issue.expected] ?? (issue.expected === "array" ? "list" : issue.expected))}, not ${typeOf(issue.input)}`;
      case "invalid_value":
        return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      case "unrecognized_keys":
        return `has ${issue.keys.length === 1 ? "a field" : "fields"} not allowed here: ${issue.keys.join(", ")}`;
      case "too_small":
        if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "must not be empty" : `must be at least ${issue.minimum} characters`;
        if (issue.origin === "array") return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`;
        return `must be ${issue.inclusive ? "at least" : "more than"} ${issue.minimum}`;
      case "too_big":
        if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
        if (issue.origin === "array") return `must have at most ${issue.maximum} items`;
        return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
      case "invalid_union":
        return "matches none of the allowed forms";
      default:
        return undefined;
    }
  },
});
