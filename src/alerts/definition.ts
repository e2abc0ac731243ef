/**
 * An alert rule (issue 26, docs/alerting.md): what is measured over a window, the threshold that
 * makes it fire, how long to wait before telling again while it fires, and where it goes (Slack
 * incoming webhooks, PagerDuty Events API v2, a signed webhook). Destinations' URLs follow the
 * outbound policy of every admin-configured URL; secrets (PagerDuty routing keys) are Worker
 * secrets named here, never stored.
 */
import { z } from "zod";
import { privateHostReason } from "../kernel/outbound-url";

export const AlertRuleId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1–64 lower-case letters, digits, - or _");

const SecretName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "must name a Worker secret (UPPER_SNAKE_CASE)");
const OutboundUrl = z
  .url({ protocol: /^https?$/ })
  .max(2_000)
  .refine((u) => u.startsWith("https://") || privateHostReason(new URL(u).hostname.replace(/\.+$/, "")) !== null, "must be https (plain http only to a local host, where ALLOW_PRIVATE_OUTBOUND allows one)");

export const Destination = z.discriminatedUnion("type", [
  z.object({ type: z.literal("slack"), url: OutboundUrl.describe("A Slack incoming webhook URL") }),
  z.object({
    type: z.literal("pagerduty"),
    url: OutboundUrl.default("https://events.pagerduty.com/v2/enqueue"),
    routingKeySecret: SecretName.describe("The Worker secret holding the PagerDuty integration's routing key"),
  }),
  z.object({ type: z.literal("webhook"), url: OutboundUrl.describe("Receives the alert as signed JSON (Rapport-Signature, as trigger deliveries)") }),
]);
export type Destination = z.infer<typeof Destination>;

/** What a rule measures over its window. */
export const METRICS = {
  dead_letters: "messages set aside as dead letters in the window (not replayed)",
  quarantined: "messages quarantined (refused with their reason) in the window",
  delivery_failure_rate: "share of trigger deliveries that failed (retrying, rejected or dead) among those attempted in the window, per destination host",
  consumer_lag_ms: "the longest an event waited on the queue before the consumer took it, in the window (ms)",
  freshness_p95_ms: "95th percentile of ingest to profile written, in the window (ms; by buckets: 1 s, 5 s, 30 s, 60 s meaning later)",
  volume_ratio: "events received in the window against the same window's average over the previous 7 days (fires when at most the threshold)",
  segment_size_change: "how much a segment's size moved over the window, as a share of its size before (0.3: 30 % up or down), per segment; by whole UTC days",
} as const;
export type Metric = keyof typeof METRICS;

/** Metrics that fire when they fall to the threshold or below (the rest: when they reach it). */
export const FIRES_BELOW: ReadonlySet<Metric> = new Set(["volume_ratio"]);

export const AlertRuleDefinition = z.object({
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  metric: z.enum(Object.keys(METRICS) as [Metric, ...Metric[]]),
  /** Fires when the measured value is at least this (a count, or a share 0–1 for rates). */
  threshold: z.number().min(0),
  windowMinutes: z.number().int().min(1).max(10_080).default(60),
  /** While firing, no new notification for this long (the condition clearing resolves at once). */
  cooldownMinutes: z.number().int().min(0).max(10_080).default(60),
  /**
   * Rates and percentiles: at least this many attempts (events) in the window before the figure
   * counts (one failure of one is not a 100 % outage); volume: at least this usual volume.
   */
  minVolume: z.number().int().min(0).max(1_000_000).default(10),
  severity: z.enum(["critical", "error", "warning", "info"]).default("error"),
  destinations: z.array(Destination).min(1).max(5),
});
export type AlertRuleDefinition = z.infer<typeof AlertRuleDefinition>;
