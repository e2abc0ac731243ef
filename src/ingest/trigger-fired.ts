/**
 * A firing of a trigger with a holdout, told to the customer's profile as Rapport's own `Trigger
 * Fired` event (profiles/engagement.ts): which arm the customer was in, so conversions after it
 * count for that arm in the engagement report. Its messageId derives from the delivery id, so the
 * outbox's resends are dropped as duplicates.
 */
import { INTERNAL_SOURCE_PREFIX } from "../model/events";
import { TRIGGER_FIRED } from "../profiles/engagement";
import type { FiringRecord } from "../triggers/fire";
import { customerEventRaw, queueRawEvents } from "./customer-event";

export const TRIGGERS_SOURCE_ID = `${INTERNAL_SOURCE_PREFIX}triggers`;

/** The event's JSON (kept in the session's outbox until the queue has it); null when the customer has no id. */
export function firingEventJson(r: FiringRecord): string | null {
  const raw = customerEventRaw(r.customer, {
    event: TRIGGER_FIRED,
    messageId: `tf:${r.deliveryId}`,
    timestamp: new Date(r.at).toISOString(),
    properties: { trigger_id: r.triggerId, delivery_id: r.deliveryId, holdout: r.holdout },
    userAgent: null,
    ip: null,
  });
  return raw ? JSON.stringify(raw) : null;
}

export async function queueFiringEvents(env: Env, jsons: readonly string[], requestId: string): Promise<number> {
  return queueRawEvents(
    env,
    jsons.map((j) => JSON.parse(j) as Record<string, unknown>),
    TRIGGERS_SOURCE_ID,
    requestId,
  );
}
