/** Turns zod issues into field errors (the `errors` of a problem+json body), naming the field at fault. */
import type { z } from "zod";
import type { FieldError } from "./errors";
import { MISSING } from "./zod-messages";

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
