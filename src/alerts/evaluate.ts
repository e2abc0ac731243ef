/**
 * One evaluation of every enabled rule (the cron, every minute; or `POST /v1/alerts/evaluate`):
 * measure, step each subject's state (alerts/state.ts), write the state guarded by the one read
 * (two evaluations at once notify once), then tell the destinations and record what they answered.
 * Survives restarts: the state and its dedup key are in D1.
 */
import { log } from "../kernel/log";
import { measure } from "./measure";
import { notify } from "./notify";
import { step, type AlertState } from "./state";
import { listAlertRules, markNotified, moveState, recordNotice, statesOf } from "./store";

export interface EvaluationResult {
  rules: number;
  notices: { ruleId: string; subject: string; action: string; delivered: boolean }[];
}

export async function evaluateAlerts(env: Env, now = Date.now()): Promise<EvaluationResult> {
  const d1 = env.DB;
  const rules = (await listAlertRules(d1)).filter((r) => r.definition.enabled);
  const held = await statesOf(d1);
  const result: EvaluationResult = { rules: rules.length, notices: [] };
  for (const rule of rules) {
    const measured = await measure(d1, rule.definition, now);
    const mine = held.filter((s) => s.ruleId === rule.id);
    // Subjects no longer measured (a host without traffic in the window) read as 0: they resolve.
    const subjects = new Set([...measured.map((m) => m.subject), ...mine.filter((s) => s.status !== "resolved").map((s) => s.subject)]);
    for (const subject of subjects) {
      const m = measured.find((x) => x.subject === subject);
      const before = mine.find((s) => s.subject === subject);
      const next = step(rule.id, subject, before, m?.value ?? 0, rule.definition, now);
      if (next.action === "none") continue;
      if (!(await moveState(d1, before, next.state))) continue;
      const outcomes = await notify(env, { ruleId: rule.id, rule: rule.definition, state: next.state, action: next.action, details: m?.details ?? { windowMinutes: rule.definition.windowMinutes } });
      const delivered = outcomes.every((o) => o.ok);
      if (delivered) await markNotified(d1, next.state as AlertState, now);
      await recordNotice(d1, next.state, next.action, outcomes, now);
      log(delivered ? "info" : "warn", "alerts.notice", { ruleId: rule.id, subject, action: next.action, value: next.state.value, outcomes });
      result.notices.push({ ruleId: rule.id, subject, action: next.action, delivered });
    }
  }
  return result;
}
