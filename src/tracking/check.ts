/**
 * Checking one event against its source's plan (pure). The verdict says what to do with it:
 * pass it on (unchanged, marked, or with the properties at fault removed) or quarantine it, and
 * carries the violation record the pipeline keeps.
 */
import type { OutputUnit, Validator } from "@cfworker/json-schema";
import type { StoredEvent } from "../model/events";
import type { CompiledPlan } from "./compile";
import type { Policy } from "./definition";
import type { Violation, ViolationAction, ViolationRecord } from "../model/events";

export type Verdict = { outcome: "clean"; event: StoredEvent } | { outcome: "pass" | "quarantine"; event: StoredEvent; record: ViolationRecord };

const ACTION: Record<Policy, ViolationAction> = { allow: "allowed", flag: "flagged", drop: "dropped", quarantine: "quarantined" };

// Keywords whose error only says "something below failed": the errors below say what.
const SUMMARIES = new Set(["properties", "patternProperties", "additionalProperties", "items", "prefixItems", "allOf", "$ref", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "if", "then", "else", "contains", "propertyNames"]);
// Keywords whose sub-errors are noise ("not a string" and "not a number" under an anyOf).
const ALTERNATIVES = new Set(["anyOf", "oneOf", "not"]);

function pointerSegments(location: string): string[] {
  return location
    .replace(/^#\/?/, "")
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
}

const pathOf = (base: string, segments: string[]) => segments.reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : `${p}.${s}`), base);

/** The schema errors a person needs, each once, with a path into the event. */
export function violationsOf(errors: readonly OutputUnit[], base: string): { violation: Violation; segments: string[] }[] {
  const alternatives = errors.filter((e) => ALTERNATIVES.has(e.keyword)).map((e) => `${e.keywordLocation}/`);
  const out: { violation: Violation; segments: string[] }[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (SUMMARIES.has(e.keyword)) continue;
    if (alternatives.some((prefix) => e.keywordLocation.startsWith(prefix))) continue;
    const segments = pointerSegments(e.instanceLocation);
    let rule = e.keyword;
    let message = e.error;
    if (e.keyword === "required") {
      // The error sits on the object; the missing property is what the reader looks for.
      const missing = /property "(.*)"/.exec(e.error)?.[1];
      if (missing !== undefined) segments.push(missing);
      message = "is required";
    } else if (e.keyword === "false") {
      // A `false` schema: `additionalProperties: false`, or a property the plan forbids.
      rule = "notAllowed";
      message = "is not in the plan";
    }
    const violation = { path: pathOf(base, segments), rule, message };
    const key = `${violation.path}\n${rule}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ violation, segments });
  }
  return out;
}

/** What the plan says about this event: the validator and the part it checks, or unplanned. */
function target(plan: CompiledPlan, event: StoredEvent): { validator: Validator; field: "properties" | "traits" } | "unplanned" | null {
  if (event.type === "track") {
    const v = plan.events.get(event.event ?? "");
    return v ? { validator: v, field: "properties" } : "unplanned";
  }
  if (event.type === "identify") return plan.identify ? { validator: plan.identify, field: "traits" } : null;
  if (event.type === "page" || event.type === "screen") return plan.page ? { validator: plan.page, field: "properties" } : null;
  return null;
}

export function checkEvent(plan: CompiledPlan, event: StoredEvent): Verdict {
  const t = target(plan, event);
  if (t === null) return { outcome: "clean", event };
  let violations: Violation[];
  let drop: { field: "properties" | "traits"; keys: string[] | "all" };
  let policy: Policy;
  if (t === "unplanned") {
    violations = [{ path: "event", rule: "unplanned", message: `"${event.event}" is not in tracking plan ${plan.id}` }];
    drop = { field: "properties", keys: "all" };
    policy = plan.plan.unplannedEvents;
  } else {
    const result = t.validator.validate(event[t.field] ?? {});
    if (result.valid) return { outcome: "clean", event };
    const found = violationsOf(result.errors, t.field);
    violations = found.map((f) => f.violation);
    // Top-level properties at fault: a required one that is missing has nothing to drop.
    drop = { field: t.field, keys: [...new Set(found.filter((f) => f.violation.rule !== "required" && f.segments.length > 0).map((f) => f.segments[0]!))] };
    policy = plan.plan.violations;
  }
  const record: ViolationRecord = {
    sourceId: event.sourceId,
    messageId: event.messageId,
    receivedAt: event.receivedAt,
    planId: plan.id,
    planVersion: plan.version,
    eventName: event.type === "track" ? (event.event ?? "") : event.type,
    action: ACTION[policy],
    unplanned: t === "unplanned",
    violations,
  };
  if (policy === "quarantine") return { outcome: "quarantine", event, record };
  if (policy === "allow") return { outcome: "pass", event, record };
  return { outcome: "pass", event: marked(event, plan, violations, policy === "drop" ? drop : null), record };
}

/** The event with `context.trackingPlan` saying what was wrong (and, for `drop`, what was removed). */
function marked(event: StoredEvent, plan: CompiledPlan, violations: Violation[], drop: { field: "properties" | "traits"; keys: string[] | "all" } | null): StoredEvent {
  const out: StoredEvent = { ...event };
  let dropped: string[] | undefined;
  if (drop && out[drop.field]) {
    const kept = { ...out[drop.field] };
    const keys = drop.keys === "all" ? Object.keys(kept) : drop.keys.filter((k) => k in kept);
    for (const k of keys) delete kept[k];
    out[drop.field] = kept;
    dropped = keys.map((k) => `${drop.field}.${k}`);
  }
  out.context = { ...event.context, trackingPlan: { id: plan.id, version: plan.version, violations, ...(dropped ? { dropped } : {}) } };
  return out;
}
