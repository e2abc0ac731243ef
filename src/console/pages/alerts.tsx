/** Alerts: every rule's alerts as they stand (firing first), the rules, and the notification history. */
import type { Context } from "hono";
import { METRICS } from "../../alerts/definition";
import { consolePath } from "../../alerts/notify";
import { alertHistoryPage, listAlertRules, statesOf } from "../../alerts/store";
import type { ConsoleEnv } from "../context";
import { Layout, Table, when } from "../ui";

export async function alertsPage(c: Context<ConsoleEnv>) {
  const [states, rules, history] = await Promise.all([statesOf(c.env.DB), listAlertRules(c.env.DB), alertHistoryPage(c.env.DB, 100)]);
  const order = { firing: 0, resolving: 1, resolved: 2 } as const;
  states.sort((a, b) => order[a.status] - order[b.status] || b.since - a.since);
  const metricOf = new Map(rules.map((r) => [r.id, r.definition.metric]));
  return c.html(
    <Layout title="Alerts" page="alerts" session={c.get("session")}>
      <h2>Alerts now ({states.filter((s) => s.status === "firing").length} firing)</h2>
      <Table
        id="alert-states"
        empty="No rule has fired yet."
        head={["Status", "Rule", "Subject", "Value", "Since", "Dedup key", ""]}
        rows={states.map((s) => [
          <span class={`pill ${s.status}`}>{s.status}</span>,
          s.ruleId,
          s.subject || null,
          s.value,
          when(s.since),
          <code>{s.dedupKey}</code>,
          metricOf.has(s.ruleId) ? <a href={consolePath(metricOf.get(s.ruleId)!, s.subject)}>look</a> : null,
        ])}
      />
      <h2>Rules ({rules.length})</h2>
      <Table
        empty="No alert rules: PUT /v1/alerts/rules/{id} (docs/alerting.md)."
        head={["Rule", "Metric", "Threshold", "Window", "Cool-down", "Destinations", "Enabled"]}
        rows={rules.map((r) => [r.id, METRICS[r.definition.metric], r.definition.threshold, `${r.definition.windowMinutes} min`, `${r.definition.cooldownMinutes} min`, r.definition.destinations.map((d) => d.type).join(", "), r.definition.enabled ? "yes" : "no"])}
      />
      <h2>History</h2>
      <Table
        empty="Nothing notified yet."
        head={["At", "Rule", "Subject", "Action", "Value", "Destinations"]}
        rows={history.map((h) => [when(h.at), h.ruleId, h.subject || "–", h.action, h.value, h.outcomes.map((o) => `${o.type} ${o.ok ? "ok" : `failed (${o.status ?? o.error})`}`).join(", ")])}
      />
    </Layout>,
  );
}
