/** Alerts: every rule's alerts as they stand (firing first), the rules, and the notification history. */
import type { Context } from "hono";
import { METRICS } from "../../alerts/definition";
import { consolePath } from "../../alerts/notify";
import { alertHistoryPage, listAlertRules, statesOf } from "../../alerts/store";
import type { ConsoleEnv } from "../context";
import { Layout, when } from "../ui";
import { Rows } from "./profiles";

export async function alertsPage(c: Context<ConsoleEnv>) {
  const [states, rules, history] = await Promise.all([statesOf(c.env.DB), listAlertRules(c.env.DB), alertHistoryPage(c.env.DB, 100)]);
  const order = { firing: 0, resolving: 1, resolved: 2 } as const;
  states.sort((a, b) => order[a.status] - order[b.status] || b.since - a.since);
  const metricOf = new Map(rules.map((r) => [r.id, r.definition.metric]));
  return c.html(
    <Layout title="Alerts" page="alerts" session={c.get("session")}>
      <h2>Alerts now ({states.filter((s) => s.status === "firing").length} firing)</h2>
      {states.length === 0 ? (
        <p class="muted">No rule has fired yet.</p>
      ) : (
        <div class="table" id="alert-states">
          <table>
            <thead>
              <tr>
                <th>Status</th>
                <th>Rule</th>
                <th>Subject</th>
                <th class="num">Value</th>
                <th>Since</th>
                <th>Dedup key</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {states.map((s) => (
                <tr>
                  <td>
                    <span class={`pill ${s.status}`}>{s.status}</span>
                  </td>
                  <td>{s.ruleId}</td>
                  <td>{s.subject || "–"}</td>
                  <td class="num">{s.value}</td>
                  <td>{when(s.since)}</td>
                  <td>
                    <code>{s.dedupKey}</code>
                  </td>
                  <td>{metricOf.has(s.ruleId) && <a href={consolePath(metricOf.get(s.ruleId)!, s.subject)}>look</a>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Rules ({rules.length})</h2>
      <Rows
        empty="No alert rules: PUT /v1/alerts/rules/{id} (docs/alerting.md)."
        head={["Rule", "Metric", "Threshold", "Window", "Cool-down", "Destinations", "Enabled"]}
        rows={rules.map((r) => [r.id, METRICS[r.definition.metric], r.definition.threshold, `${r.definition.windowMinutes} min`, `${r.definition.cooldownMinutes} min`, r.definition.destinations.map((d) => d.type).join(", "), r.definition.enabled ? "yes" : "no"])}
      />
      <h2>History</h2>
      <Rows
        empty="Nothing notified yet."
        head={["At", "Rule", "Subject", "Action", "Value", "Destinations"]}
        rows={history.map((h) => [when(h.at), h.ruleId, h.subject || "–", h.action, h.value, h.outcomes.map((o) => `${o.type} ${o.ok ? "ok" : `failed (${o.status ?? o.error})`}`).join(", ")])}
      />
    </Layout>,
  );
}
