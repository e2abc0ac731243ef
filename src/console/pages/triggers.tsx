/**
 * Triggers and deliveries: fired, delivered, retried and failed over time; the same per trigger
 * and per destination host (with its failure rate, what the delivery alert watches); the delivery
 * log with response codes, filtered by trigger or status; replay of a rejected or dead delivery
 * (admins; the same delivery id, so the ESP sees one message).
 */
import type { Context } from "hono";
import { deliveryFigures } from "../../delivery/figures";
import { listDeliveries, type DeliveryStatus } from "../../delivery/store";
import { RANGES, type RangeName } from "../../reports/pipeline-figures";
import { listTriggers } from "../../triggers/store";
import type { ConsoleEnv } from "../context";
import { Action, Cards, Chart, Layout, Table, Tabs, when } from "../ui";

/** The busiest triggers get a line each; a chart with more is unreadable (the table has them all). */
const TRIGGER_SERIES = 6;
const STATUSES = ["queued", "retrying", "delivered", "rejected", "dead"] as const satisfies readonly DeliveryStatus[];

export async function triggersPage(c: Context<ConsoleEnv>, notice?: string) {
  const session = c.get("session");
  const range = (Object.hasOwn(RANGES, c.req.query("range") ?? "") ? c.req.query("range") : "day") as RangeName;
  const triggerId = c.req.query("trigger")?.slice(0, 128) || undefined;
  const status = STATUSES.find((s) => s === c.req.query("status"));
  const { minutes, step } = RANGES[range];
  const now = Date.now();
  const [figures, log, triggers] = await Promise.all([deliveryFigures(c.env.DB, now - minutes * 60_000, step * 60_000, now), listDeliveries(c.env.DB, { triggerId, status, limit: 50 }), listTriggers(c.env.DB)]);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const names = new Map(triggers.map((t) => [t.id, t.definition.name]));
  return c.html(
    <Layout title="Triggers and deliveries" page="triggers" session={session}>
      {notice && <div class="notice">{notice}</div>}
      <Tabs base="/console/triggers" current={range} options={Object.keys(RANGES)} />
      <Cards items={[["fired", sum(figures.fired)], ["delivered", sum(figures.delivered)], ["retried", sum(figures.retried)], ["failed", sum(figures.failed)]]} />
      <div class="charts">
        <Chart id="chart-deliveries" title="Deliveries by the time they fired" times={figures.times} series={[{ label: "fired", values: figures.fired }, { label: "delivered", values: figures.delivered }, { label: "retried", values: figures.retried }, { label: "failed", values: figures.failed }]} />
      </div>
      <div class="charts">
        <Chart
          id="chart-triggers"
          title="Fired per trigger"
          times={figures.times}
          series={figures.byTrigger.slice(0, TRIGGER_SERIES).map((t) => ({ label: t.triggerId, values: figures.firedByTrigger[t.triggerId] ?? [] }))}
        />
        <Chart
          id="chart-destinations"
          title="Sent and failed per destination"
          times={figures.times}
          series={figures.byHost.slice(0, TRIGGER_SERIES / 2).flatMap((h) => [
            { label: `${h.host} sent`, values: figures.firedByHost[h.host] ?? [] },
            { label: `${h.host} failed`, values: figures.failedByHost[h.host] ?? [] },
          ])}
        />
      </div>
      <h2>Per trigger</h2>
      <Table
        empty="Nothing fired in this range."
        head={["Trigger", "Name", "Fired", "Delivered", "Retried", "Failed", "Pending"]}
        rows={figures.byTrigger.map((t) => [t.triggerId, names.get(t.triggerId) ?? "(deleted)", t.fired, t.delivered, t.retried, t.failed, t.pending])}
      />
      <h2>Per destination</h2>
      <Table
        empty="Nothing fired in this range."
        head={["Host", "Fired", "Delivered", "Retried", "Failed", "Failure rate"]}
        rows={figures.byHost.map((h) => [h.host, h.fired, h.delivered, h.retried, h.failed, h.failureRate === null ? null : `${(h.failureRate * 100).toFixed(1)} %`])}
      />
      <h2 id="log">Delivery log</h2>
      <form method="get" action="/console/triggers" class="search">
        <input type="hidden" name="range" value={range} />
        <select name="trigger" aria-label="Trigger">
          <option value="">every trigger</option>
          {triggers.map((t) => (
            <option value={t.id} selected={t.id === triggerId}>
              {t.id}
            </option>
          ))}
        </select>
        <select name="status" aria-label="Status">
          <option value="">every status</option>
          {STATUSES.map((s) => (
            <option value={s} selected={s === status}>
              {s}
            </option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <Table
        empty="No delivery matches."
        head={["Fired", "Trigger", "Customer", "Status", "Attempts", "Response", "Error", ""]}
        rows={log.map((d) => [
          when(d.firedAt),
          d.triggerId,
          <a href={`/console/profiles?q=${encodeURIComponent(d.customerId)}`}>{d.customerId}</a>,
          <span class={`pill ${d.status}`}>{d.status}</span>,
          d.attempts,
          d.lastStatusCode,
          d.lastError,
          d.status === "rejected" || d.status === "dead" ? <Action session={session} action={`/console/triggers/deliveries/${encodeURIComponent(d.id)}/replay`} label="Replay" /> : null,
        ])}
      />
    </Layout>,
  );
}
