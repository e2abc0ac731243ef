/**
 * Turning a plan into validators. @cfworker/json-schema interprets schemas (no `eval` or
 * `new Function`, which Workers forbid), so a plan is "compiled" by dereferencing its schemas once
 * per version; the validators are kept with the plan in the isolate (plans-cache.ts).
 */
import { Validator } from "@cfworker/json-schema";
import type { JsonSchema, TrackingPlan } from "./definition";

export interface CompiledPlan {
  id: string;
  version: number;
  plan: TrackingPlan;
  events: Map<string, Validator>;
  identify?: Validator;
  page?: Validator;
}

// Draft 2020-12, every error (not only the first): a violation report names them all.
const validator = (schema: JsonSchema) => new Validator(schema as never, "2020-12", false);

export function compilePlan(id: string, version: number, plan: TrackingPlan): CompiledPlan {
  return {
    id,
    version,
    plan,
    events: new Map(Object.entries(plan.events).map(([name, schema]) => [name, validator(schema)])),
    identify: plan.identify === undefined ? undefined : validator(plan.identify),
    page: plan.page === undefined ? undefined : validator(plan.page),
  };
}

const TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const SUBSCHEMAS = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];

/**
 * Mistakes the validator would silently accept (it ignores what it does not know), found before a
 * plan is saved: an unknown `type`, a `required` that is not a list of names, a `$ref` that does
 * not resolve. Returns `{ path, message }` per problem.
 */
export function schemaProblems(schema: JsonSchema, path: string): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const walk = (s: unknown, at: string) => {
    if (typeof s === "boolean") return;
    if (typeof s !== "object" || s === null || Array.isArray(s)) return void problems.push({ path: at, message: "must be a JSON Schema (an object or a boolean)" });
    const o = s as Record<string, unknown>;
    const types = Array.isArray(o.type) ? o.type : o.type === undefined ? [] : [o.type];
    for (const t of types) if (typeof t !== "string" || !TYPES.has(t)) problems.push({ path: `${at}.type`, message: `${JSON.stringify(t)} is not a JSON Schema type (${[...TYPES].join(", ")})` });
    if (o.required !== undefined && !(Array.isArray(o.required) && o.required.every((r) => typeof r === "string"))) problems.push({ path: `${at}.required`, message: "must be a list of property names" });
    for (const key of SUBSCHEMA_MAPS) {
      const map = o[key];
      if (map === undefined) continue;
      if (typeof map !== "object" || map === null || Array.isArray(map)) problems.push({ path: `${at}.${key}`, message: "must be an object of schemas" });
      else for (const [name, sub] of Object.entries(map)) walk(sub, `${at}.${key}.${name}`);
    }
    if (o.$ref !== undefined && (typeof o.$ref !== "string" || resolvePointer(schema, o.$ref) === undefined)) {
      problems.push({ path: `${at}.$ref`, message: `${JSON.stringify(o.$ref)} does not resolve: references must point inside the plan's schema (#/$defs/…)` });
    }
    for (const key of SUBSCHEMAS) if (o[key] !== undefined) walk(o[key], `${at}.${key}`);
    for (const key of SUBSCHEMA_LISTS) {
      const list = o[key];
      if (list === undefined) continue;
      if (!Array.isArray(list)) problems.push({ path: `${at}.${key}`, message: "must be a list of schemas" });
      else for (const [i, sub] of list.entries()) walk(sub, `${at}.${key}[${i}]`);
    }
  };
  walk(schema, path);
  return problems;
}

/** A local JSON pointer reference (`#`, `#/$defs/price`) in `root`, or undefined. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof at !== "object" || at === null || !(key in at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
