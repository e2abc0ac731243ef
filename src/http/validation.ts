/** Turns zod issues into the `errors` of a problem+json body, naming the field at fault. */
import type { Context } from "hono";
import type { z } from "zod";
import { MISSING } from "./zod-messages";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";
import type { FieldError } from "../model/events";
import { readBodyText } from "./body";
import { tooDeepAt } from "../model/depth";

/** `["batch", 3, "properties", "price"]` → `batch[3].properties.price` */
export function fieldPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(body)";
}

export function fieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.flatMap((issue) => closestIssues(issue, [])).map((issue) => ({ field: fieldPath(issue.path, prefix), message: issue.message }));
}

type Issue = z.core.$ZodIssue;

/**
 * A value that matches none of a union's forms (a rule condition, say) is explained by the form
 * it came closest to: the one with the least wrong, then the deepest. A missing field weighs two
 * (it is what tells the forms apart), a field not allowed one, any other complaint one.
 * `{"trait": "plan", "op": "eqq"}` gets `op must be one of "eq", …`, not "matches none of the
 * allowed forms", nor complaints that it is not an event condition.
 */
function closestIssues(issue: Issue, base: PropertyKey[]): Issue[] {
  const path = [...base, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [{ ...issue, path }];
  const options = issue.errors.map((issues) => issues.flatMap((i) => closestIssues(i, path)));
  const weight = (issues: Issue[]) => issues.reduce((n, i) => n + (i.code === "invalid_type" && i.message === MISSING ? 2 : i.code === "unrecognized_keys" ? i.keys.length : 1), 0);
  const depth = (issues: Issue[]) => Math.max(...issues.map((i) => i.path.length));
  const best = options.reduce((a, b) => (weight(b) < weight(a) || (weight(b) === weight(a) && depth(b) > depth(a)) ? b : a));
  return best.length > 0 ? best : [{ ...issue, path }];
}

/** Parses route input with a zod schema, or throws a 400 naming each field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ApiError("validation_failed", `Invalid ${what}`, fieldErrors(result.error));
  return result.data;
}

/**
 * Admin and read bodies: definitions, catalog updates, lookups. Bounded in size and nesting like
 * ingest's (a rule nested thousands of levels deep would overflow the recursive schema checks).
 */
export const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_BODY_DEPTH = 64;

/** The JSON body of a request, or a 400 saying it is not JSON (413 over the size limit). */
export async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await readBodyText(c.req.raw, MAX_JSON_BODY_BYTES, "request body");
  return parseJsonText(text, "must be valid JSON");
}

/** Like jsonBody, but an empty body is `{}` (optional bodies); a body that is not JSON is still a 400. */
export async function optionalJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await readBodyText(c.req.raw, MAX_JSON_BODY_BYTES, "request body");
  if (text.trim() === "") return {};
  return parseJsonText(text, "must be valid JSON, or empty");
}

function parseJsonText(text: string, expected: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("bad_request", "The body is not valid JSON", [{ field: "(body)", message: expected }]);
  }
  const tooDeep = tooDeepAt(value, MAX_JSON_BODY_DEPTH);
  if (tooDeep) throw new ApiError("bad_request", `The body nests deeper than ${MAX_JSON_BODY_DEPTH} levels`, [{ field: fieldPath(tooDeep), message: `nests deeper than ${MAX_JSON_BODY_DEPTH} levels` }]);
  return value;
}

/** `If-Match: "3"` (or `3`) → 3: the version a versioned resource must be at for a write. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const n = Number(header.replace(/^W\//, "").replaceAll('"', ""));
  if (!Number.isInteger(n) || n < 0) throw new ApiError("validation_failed", "Invalid If-Match header", [{ field: "If-Match", message: 'must be the version in quotes, e.g. "3"' }]);
  return n;
}
