/**
 * Pipeline: events received, accepted, applied, duplicates, quarantined and dead-lettered over the last
 * hour, day or week; freshness p50/p95 and consumer lag; the quarantine and pending dead letters
 * by reason with a sample payload each; replay (admins). Queue backlog itself is not readable from
 * a Worker: consumer lag (the longest wait of a pack in the queue) is its measure here, and
 * docs/console.md points to Cloudflare's queue metrics for the backlog.
 */
import type { Context } from "hono";
import { listDeadLetters, type DeadLetter } from "../../queues/dead-letters";
import { pipelineSeries, RANGES, type RangeName } from "../../reports/pipeline-figures";
import { listQuarantine, type QuarantinedMessage } from "../../tracking/quarantine";
import type { ConsoleEnv } from "../context";
import { Action, Cards, Chart, Json, Layout, ms, Table, Tabs, when } from "../ui";

const SAMPLE_ROWS = 200;

export async function pipelinePage(c: Context<ConsoleEnv>, notice?: { text: string; error?: boolean }) {
  const session = c.get("session");
  const range = (Object.hasOwn(RANGES, c.req.query("range") ?? "") ? c.req.query("range") : "hour") as RangeName;
  const [s, quarantined, dead] = await Promise.all([pipelineSeries(c.env.DB, range), listQuarantine(c.env.DB, SAMPLE_ROWS), listDeadLetters(c.env.DB, { limit: SAMPLE_ROWS, pendingOnly: true })]);
  return c.html(
    <Layout title="Pipeline" page="pipeline" session={session}>
      {notice && <div class={notice.error ? "notice error" : "notice"}>{notice.text}</div>}
      <Tabs base="/console/pipeline" current={range} options={Object.keys(RANGES)} />
      <Cards
        items={[
          ["received", s.totals.received],
          ["accepted", s.totals.accepted],
          ["applied", s.totals.applied],
          ["duplicates dropped", s.totals.duplicates],
          ["quarantined", s.totals.quarantined],
          ["dead-lettered", s.totals.deadLettered],
          ["freshness p50", ms(s.totals.freshP50Ms)],
          ["freshness p95", ms(s.totals.freshP95Ms)],
          ["longest queue wait", ms(s.totals.lagMaxMs)],
        ]}
      />
      <div class="charts">
        <Chart id="chart-events" title="Events" times={s.times} series={[{ label: "received", values: s.received }, { label: "accepted", values: s.accepted }, { label: "applied", values: s.applied }, { label: "duplicates", values: s.duplicates }]} />
        <Chart id="chart-refused" title="Quarantined and dead-lettered" times={s.times} series={[{ label: "quarantined", values: s.quarantined }, { label: "dead-lettered", values: s.deadLettered }]} />
        <Chart id="chart-freshness" title="Freshness, ingest to profile (upper bound of bucket)" unit="ms" times={s.times} series={[{ label: "p50", values: s.freshP50Ms }, { label: "p95", values: s.freshP95Ms }]} />
        <Chart id="chart-lag" title="Consumer lag (longest wait in the queue)" unit="ms" times={s.times} series={[{ label: "lag", values: s.lagMaxMs }]} />
      </div>
      <DeadLetters letters={dead.items} session={session} />
      <Quarantine messages={quarantined} />
    </Layout>,
  );
}

/** Groups by a reason, keeping the count and the newest item as the sample. */
function byReason<T>(items: readonly T[], reasonOf: (item: T) => string): { reason: string; count: number; sample: T; items: T[] }[] {
  const groups = new Map<string, { reason: string; count: number; sample: T; items: T[] }>();
  for (const item of items) {
    const reason = reasonOf(item);
    const g = groups.get(reason) ?? { reason, count: 0, sample: item, items: [] };
    g.count++;
    g.items.push(item);
    groups.set(reason, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

const DeadLetters = ({ letters, session }: { letters: DeadLetter[]; session: ConsoleEnv["Variables"]["session"] }) => (
  <section id="dead-letters">
    <h2>
      Dead letters waiting for replay ({letters.length}
      {letters.length === SAMPLE_ROWS ? "+" : ""}){" "}
      {letters.length > 0 && <Action session={session} action="/console/pipeline/dead-letters/replay" label="Replay all" confirm={`Put ${letters.length} dead letters back on their queues?`} />}
    </h2>
    <Table
      empty="None: every message that exhausted its retries has been replayed."
      head={["Reason", "Count", "Queue", "Newest", "Sample payload", ""]}
      rows={byReason(letters, (l) => firstLine(l.lastError ?? "no error recorded")).map((g) => [
        g.reason,
        g.count,
        g.sample.queue,
        when(g.sample.receivedAt),
        <Json value={g.sample.body} />,
        g.items.slice(0, 5).map((l) => <Action session={session} action={`/console/pipeline/dead-letters/${encodeURIComponent(l.id)}/replay`} label={`Replay ${l.id.slice(-6)}`} />),
      ])}
    />
  </section>
);

const Quarantine = ({ messages }: { messages: QuarantinedMessage[] }) => (
  <section id="quarantine">
    <h2>Quarantine: refused at ingest, latest {messages.length}</h2>
    <Table
      empty="Nothing refused."
      head={["Reason", "Count", "Error", "Source", "Newest", "Sample payload"]}
      rows={byReason(messages, (m) => `${m.reason}\n${firstError(m)}`).map((g) => [
        g.sample.reason,
        g.count,
        firstError(g.sample),
        <>
          {g.sample.sourceId} <span class="muted">{g.sample.endpoint}</span>
        </>,
        when(g.sample.receivedAt),
        <Json value={g.sample.raw} />,
      ])}
    />
  </section>
);

/** The first error, its field without the batch index (`batch[3].timestamp` → `timestamp`): one row per kind of mistake. */
const firstError = (m: QuarantinedMessage) => (m.errors[0] ? `${m.errors[0].field.replace(/^batch\[\d+\]\.?/, "")}: ${m.errors[0].message}` : "–");

const firstLine = (s: string) => (s.split("\n")[0] ?? s).slice(0, 160);
