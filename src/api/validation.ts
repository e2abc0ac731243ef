/** Route input: JSON bodies bounded in size and depth, parsed with zod into 400s naming each field. */
import type { Context } from "hono";
import type { z } from "zod";
import { fieldErrors, fieldPath } from "../kernel/field-errors";
import type { AppEnv } from "./context";
import { ApiError } from "../kernel/errors";
import { readBodyText } from "../kernel/request-body";
import { tooDeepAt } from "../model/depth";

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
