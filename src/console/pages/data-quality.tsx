/**
 * Data quality: tracking-plan violations by event and rule, what ingest refused (by reason),
 * identity refusals (identifier limits), traits that could not be normalized, and how complete
 * profiles are. The report scans tables: an admin page, read on demand.
 */
import type { Context } from "hono";
import { dataQualityReport } from "../../profiles/data-quality";
import { countViolations, listViolations } from "../../tracking/violations";
import type { ConsoleEnv } from "../context";
import { Cards, Chart, Json, Layout, Table, when } from "../ui";

export async function dataQualityPage(c: Context<ConsoleEnv>) {
  const [report, counts, recent] = await Promise.all([dataQualityReport(c.env), countViolations(c.env.DB, {}), listViolations(c.env.DB, {}, 20)]);
  const p = report.completeness;
  const share = (n: number) => (p.profiles > 0 ? n / p.profiles : 0);
  const fields = [
    ["user id", p.withUserId],
    ["email", p.withEmail],
    ["phone", p.withPhone],
    ["first name", p.withFirstName],
    ["last name", p.withLastName],
    ["consent", p.withConsent],
  ] as const;
  return c.html(
    <Layout title="Data quality" page="data-quality" session={c.get("session")}>
      <Cards
        items={[
          ["profiles", p.profiles],
          ["events breaking a plan", counts.reduce((n, e) => n + e.events, 0)],
          ["refused at ingest", report.quarantine.reduce((n, q) => n + q.count, 0)],
          ["identity refusals", report.identityRefusals.reduce((n, r) => n + r.count, 0)],
          ["traits not normalized", report.traitIssues.reduce((n, t) => n + t.profiles, 0)],
        ]}
      />
      <div class="charts">
        <Chart id="chart-completeness" title="Profiles holding each field" unit="%" time={false} bars times={fields.map((_, i) => i)} labels={fields.map(([f]) => f)} series={[{ label: "share of profiles", values: fields.map(([, n]) => share(n)) }]} />
      </div>
      <h2>Tracking-plan violations by event</h2>
      <Table
        empty="No event broke its tracking plan."
        head={["Source", "Event", "Events", "Actions", "Most frequent rules", "Last"]}
        rows={counts.map((e) => [
          e.sourceId,
          e.eventName,
          e.events,
          Object.entries(e.byAction)
            .map(([a, n]) => `${a} ${n}`)
            .join(", "),
          e.rules
            .slice(0, 3)
            .map((r) => `${r.path || "(event)"}: ${r.rule} ×${r.count}`)
            .join("; "),
          when(e.lastAt),
        ])}
      />
      <h2>Latest violations</h2>
      <Table
        empty="No violation recorded."
        head={["Received", "Event", "Plan", "Action", "Violations"]}
        rows={recent.violations.map((v) => [when(v.receivedAt), v.eventName, `${v.planId} v${v.planVersion}`, v.action, <Json value={v.violations} />])}
      />
      <h2>Refused at ingest (quarantine)</h2>
      <Table empty="Nothing refused." head={["Reason", "Messages", "Last"]} rows={report.quarantine.map((q) => [q.reason, q.count, when(q.lastAt)])} />
      <h2>Identity refusals</h2>
      <Table empty="No identifier was refused." head={["Rule", "Count"]} rows={report.identityRefusals.map((r) => [r.rule, r.count])} />
      <h2>Traits that could not be normalized</h2>
      <Table empty="Every trait normalized." head={["Trait", "Why", "Profiles"]} rows={report.traitIssues.map((t) => [t.trait, t.reason, t.profiles])} />
      <p class="muted">Generated {when(report.generatedAt)}.</p>
    </Layout>,
  );
}
