/** Turns zod issues into the `errors` of a problem+json body, naming the field at fault. */
import type { z } from "zod";
import type { FieldError } from "./errors";

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
  return error.issues.map((issue) => ({ field: fieldPath(issue.path, prefix), message: issue.message }));
}
