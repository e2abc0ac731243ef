/**
 * What an evaluation does with one rule and one subject, given its held state and what was just
 * measured. Pure. Fires when the value reaches the threshold; while firing, tells again once the
 * cool-down has passed (same dedup key: PagerDuty keeps one incident); resolves as soon as the
 * value is back under it. A notification that did not get through is tried again at the next
 * evaluation (`notifiedAt` moves only when every destination took it).
 */
import { FIRES_BELOW, type AlertRuleDefinition } from "./definition";

export interface AlertState {
  ruleId: string;
  subject: string;
  /** `resolving`: resolved, not yet told to every destination. */
  status: "firing" | "resolving" | "resolved";
  since: number;
  dedupKey: string;
  value: number;
  /** When the destinations last took a notification of this incident (0: not yet). */
  notifiedAt: number;
  updatedAt: number;
}

export type Step = { action: "none" } | { action: "trigger" | "remind" | "resolve"; state: AlertState };

export function step(ruleId: string, subject: string, held: AlertState | undefined, value: number, rule: Pick<AlertRuleDefinition, "threshold" | "cooldownMinutes" | "metric">, now: number): Step {
  const over = FIRES_BELOW.has(rule.metric) ? value <= rule.threshold : value >= rule.threshold;
  const firing = held?.status === "firing";
  if (over && !firing) {
    return { action: "trigger", state: { ruleId, subject, status: "firing", since: now, dedupKey: `rapport-${ruleId}-${subject || "all"}-${now}`, value, notifiedAt: 0, updatedAt: now } };
  }
  if (over && firing) {
    const due = held.notifiedAt === 0 || now - held.notifiedAt >= rule.cooldownMinutes * 60_000;
    return due ? { action: "remind", state: { ...held, value, updatedAt: now } } : { action: "none" };
  }
  if (!over && firing) return { action: "resolve", state: { ...held, status: "resolving", value, updatedAt: now } };
  if (!over && held?.status === "resolving") return { action: "resolve", state: { ...held, value, updatedAt: now } };
  return { action: "none" };
}
