/**
 * Ingest's use of tracking plans: every event on its way to the Queue is checked against its
 * source's plan. Events pass (maybe marked or trimmed) or go to the quarantine; every violation
 * travels in the pack for the pipeline to record.
 */
import type { StoredEvent } from "../model/events";
import type { FieldError } from "../kernel/errors";
import { checkEvent } from "./check";
import type { ViolationRecord } from "../model/events";
import { planFor } from "./plans-cache";

export interface Governed {
  events: StoredEvent[];
  /** Events to keep in the quarantine, with their violations as field errors. */
  quarantined: { event: StoredEvent; errors: FieldError[] }[];
  planId?: string;
  violations: ViolationRecord[];
}

export async function governEvents(d1: D1Database, sourceId: string, events: StoredEvent[]): Promise<Governed> {
  const out: Governed = { events, quarantined: [], violations: [] };
  if (events.length === 0) return out;
  const plan = await planFor(d1, sourceId);
  if (!plan) return out;
  out.events = [];
  out.planId = plan.id;
  for (const event of events) {
    const verdict = checkEvent(plan, event);
    if (verdict.outcome === "clean") {
      out.events.push(event);
      continue;
    }
    out.violations.push(verdict.record);
    if (verdict.outcome === "pass") out.events.push(verdict.event);
    else {
      const errors = verdict.record.violations.map((v) => ({ field: v.path, message: `${v.message} (${v.rule})` }));
      out.quarantined.push({ event, errors });
    }
  }
  return out;
}
