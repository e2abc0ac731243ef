/**
 * What becomes of a timer whose time has come: dropped (trigger gone or disabled, expired, too
 * late, capped, customer gone, conditions not met, message too large), deferred past quiet hours,
 * or sent as a delivery message. The session object stores timers and sends; the decision is
 * here, so it is tested without one.
 */
import { sha256Hex } from "../kernel/crypto";
import { fnv1a32 } from "../kernel/fnv";
import type { CustomerProfile } from "../profiles/document";
import { failedCondition } from "./conditions";
import type { DeliveryMessage } from "./delivery-message";
import { atBestHour, decide } from "./schedule";
import type { TriggerDefinition } from "./definition";
import type { StoredTrigger } from "./store";

/** A queue message may be 128 KB. */
const MAX_MESSAGE_BYTES = 120_000;

/** The fields of a stored timer the decision reads. */
export interface DueTimer {
  id: string;
  trigger_id: string;
  start_message_id: string;
  start_event: string;
  started_at: number;
  due_at: number;
  fire_at: number;
  /** JSON: the products involved. */
  items: string;
}

/**
 * `send` the message, or `hold` it back (the customer is in the trigger's holdout). `record`: the
 * trigger has a holdout, so the firing is recorded on the profile with its arm (TRIGGER_FIRED).
 */
export type Firing =
  | { action: "defer"; until: number }
  | { action: "drop"; outcome: string; reason: string | null }
  | { action: "send"; deliveryId: string; body: string; record: FiringRecord | null }
  | { action: "hold"; deliveryId: string; record: FiringRecord };

/** What the profile is told of a firing of a trigger with a holdout. */
export interface FiringRecord {
  customer: CustomerProfile;
  triggerId: string;
  deliveryId: string;
  holdout: boolean;
  at: number;
}

/** Is this customer in the trigger's holdout? Stable: the same answer at every firing. */
export function inHoldout(triggerId: string, customerId: string, percent: number): boolean {
  return percent > 0 && (fnv1a32(`holdout|${triggerId}|${customerId}`) % 10_000) < percent * 100;
}

export interface FiringContext {
  now: number;
  /** The customer's document with its session; read only when a decision needs it (null: gone). */
  customer: () => Promise<CustomerProfile | null>;
  /** The time zone of the customer's last visit, if known (else the `timezone` trait). */
  sessionTimeZone: string | null;
  /** When this trigger last sent to this customer (frequency caps). */
  sentAt: readonly number[];
}

/** The delivery id: the same for every run of the alarm that fires this timer. */
export const deliveryIdOf = async (timer: DueTimer) => `dlv_${(await sha256Hex(`${timer.id}|${timer.start_message_id}|${timer.started_at}`)).slice(0, 32)}`;

export async function firingOf(timer: DueTimer, trigger: StoredTrigger | null | undefined, ctx: FiringContext): Promise<Firing> {
  const drop = (outcome: string, reason: string | null = null): Firing => ({ action: "drop", outcome, reason });
  if (!trigger?.enabled || trigger.deletedAt) return drop("trigger_disabled");
  const traitZone = (await ctx.customer())?.traits.timezone;
  const timeZone = ctx.sessionTimeZone ?? (typeof traitZone === "string" ? traitZone : null);
  const decision = decide(trigger.definition, timer.fire_at, ctx.now, timeZone, ctx.sentAt);
  if (decision.action !== "fire") return decision.action === "defer" ? decision : drop(decision.outcome);
  const customer = await ctx.customer();
  if (!customer) return drop("customer_gone");
  const failed = failedCondition(trigger.definition.conditions, customer);
  if (failed) return drop("conditions_not_met", failed);
  const best = bestHourOf(trigger.definition, customer, timer, ctx.now);
  if (best !== null) return { action: "defer", until: best };
  const deliveryId = await deliveryIdOf(timer);
  const holdout = trigger.definition.holdoutPercent;
  const record = (held: boolean): FiringRecord => ({ customer, triggerId: trigger.id, deliveryId, holdout: held, at: ctx.now });
  if (inHoldout(trigger.id, customer.id, holdout)) return { action: "hold", deliveryId, record: record(true) };
  const message: DeliveryMessage = {
    v: 1,
    deliveryId,
    customerId: customer.id,
    destination: trigger.definition.destination,
    payload: {
      id: deliveryId,
      type: "trigger.fired",
      trigger: { id: trigger.id, version: trigger.version, name: trigger.definition.name },
      customer,
      items: JSON.parse(timer.items),
      startedBy: { event: timer.start_event, messageId: timer.start_message_id, timestamp: new Date(timer.started_at).toISOString() },
      dueAt: new Date(timer.due_at).toISOString(),
      firedAt: new Date(ctx.now).toISOString(),
    },
  };
  const body = JSON.stringify(message);
  return body.length > MAX_MESSAGE_BYTES ? drop("too_large", `${body.length} bytes`) : { action: "send", deliveryId, body, record: holdout > 0 ? record(false) : null };
}

/** The customer's best hour to read email, when the trigger waits for it and it is still to come (else null). */
function bestHourOf(definition: TriggerDefinition, customer: CustomerProfile, timer: DueTimer, now: number): number | null {
  const wanted = definition.bestHour;
  const estimate = customer.sendTime;
  if (!wanted || !estimate || estimate.engagements < wanted.minEngagements) return null;
  return atBestHour(timer.due_at, now, estimate.bestHour, estimate.timeZone, wanted.withinHours);
}
