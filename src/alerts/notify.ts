/**
 * Telling the rule's destinations: PagerDuty Events API v2 (`trigger` and `resolve` with the
 * incident's stable `dedup_key`, severity, `custom_details`), Slack incoming webhooks (a line of
 * text), a generic webhook (JSON signed like trigger deliveries). Every URL is checked against the
 * outbound policy at call time. Never throws: each destination's outcome is returned.
 */
import { signatureHeader, SIGNATURE_HEADER } from "../delivery/signature";
import { describeError } from "../kernel/log";
import { checkOutboundUrl, outboundPolicy } from "../kernel/outbound-url";
import { readConfig } from "../model/config";
import { METRICS, type AlertRuleDefinition, type Destination } from "./definition";
import type { AlertState } from "./state";

export interface Notice {
  ruleId: string;
  rule: AlertRuleDefinition;
  state: AlertState;
  action: "trigger" | "remind" | "resolve";
  details: Record<string, number | string>;
}

export interface Outcome {
  type: Destination["type"];
  ok: boolean;
  status: number | null;
  error: string | null;
}

const TIMEOUT_MS = 10_000;

function summary(n: Notice): string {
  const what = `${n.rule.name}${n.state.subject ? ` (${n.state.subject})` : ""}`;
  const value = n.rule.metric.endsWith("_rate") ? `${(n.state.value * 100).toFixed(1)} %` : String(n.state.value);
  const threshold = n.rule.metric.endsWith("_rate") ? `${(n.rule.threshold * 100).toFixed(1)} %` : String(n.rule.threshold);
  return n.action === "resolve" ? `Resolved: ${what}: ${value}, under ${threshold}` : `${what}: ${value} ≥ ${threshold} over ${n.rule.windowMinutes} min (${METRICS[n.rule.metric]})`;
}

/** The console page showing what a rule watches (docs/console.md). */
export function consolePath(metric: AlertRuleDefinition["metric"], subject: string): string {
  if (metric === "delivery_failure_rate") return "/console/triggers?range=hour#log";
  if (metric === "segment_size_change") return `/console/segments/${encodeURIComponent(subject)}`;
  return "/console/pipeline?range=hour";
}

/** That page as a link for notifications, or null without PUBLIC_URL. */
export function consoleLink(publicUrl: string, n: Pick<Notice, "rule" | "state">): string | null {
  return publicUrl ? `${publicUrl}${consolePath(n.rule.metric, n.state.subject)}` : null;
}

function bodyFor(env: Env, d: Destination, n: Notice): { body: string; error?: string } {
  const link = consoleLink(readConfig(env).publicUrl, n);
  switch (d.type) {
    case "pagerduty": {
      const key = (env as unknown as Record<string, unknown>)[d.routingKeySecret];
      if (typeof key !== "string" || key === "") return { body: "", error: `Worker secret ${d.routingKeySecret} (PagerDuty routing key) is not set` };
      const resolve = n.action === "resolve";
      return {
        body: JSON.stringify({
          routing_key: key,
          event_action: resolve ? "resolve" : "trigger",
          dedup_key: n.state.dedupKey,
          ...(resolve ? {} : { payload: { summary: summary(n).slice(0, 1024), source: "rapport", severity: n.rule.severity, timestamp: new Date(n.state.since).toISOString(), component: n.rule.metric, group: n.ruleId, custom_details: { ...n.details, value: n.state.value, threshold: n.rule.threshold, ...(link ? { console: link } : {}) } }, ...(link ? { links: [{ href: link, text: "Open in the Rapport console" }] } : {}) }),
        }),
      };
    }
    case "slack":
      return { body: JSON.stringify({ text: `${n.action === "resolve" ? ":large_green_circle:" : ":red_circle:"} [Rapport] ${summary(n)}${link ? ` <${link}|Open in the console>` : ""}` }) };
    case "webhook":
      return { body: JSON.stringify({ type: n.action === "resolve" ? "alert.resolved" : "alert.triggered", rule: { id: n.ruleId, name: n.rule.name, metric: n.rule.metric, threshold: n.rule.threshold, severity: n.rule.severity }, subject: n.state.subject, value: n.state.value, dedupKey: n.state.dedupKey, since: new Date(n.state.since).toISOString(), details: n.details, summary: summary(n), consoleUrl: link }) };
  }
}

export async function notify(env: Env, n: Notice): Promise<Outcome[]> {
  const config = readConfig(env);
  return Promise.all(
    n.rule.destinations.map(async (d): Promise<Outcome> => {
      const { body, error } = bodyFor(env, d, n);
      if (error) return { type: d.type, ok: false, status: null, error };
      const allowed = checkOutboundUrl(d.url, outboundPolicy(config, true));
      if (!allowed.ok) return { type: d.type, ok: false, status: null, error: `destination refused: ${allowed.reason}` };
      try {
        const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Rapport-Alerts/1" };
        if (d.type === "webhook") headers[SIGNATURE_HEADER] = await signatureHeader(body, config.webhookSecrets, Math.floor(Date.now() / 1000));
        const res = await fetch(allowed.url.href, { method: "POST", body, headers, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.body?.cancel();
        return { type: d.type, ok: res.ok, status: res.status, error: res.ok ? null : `HTTP ${res.status}` };
      } catch (err) {
        return { type: d.type, ok: false, status: null, error: describeError(err).error };
      }
    }),
  );
}
