/**
 * Segments: every segment with its size; one segment's size and entries/exits per day as charts,
 * its members a page at a time, and the export (NDJSON, streamed) behind the console's session.
 */
import type { Context } from "hono";
import { memberPage, membersExport, segmentHistory } from "../../segments/members-read";
import { getSegment, listSegments } from "../../segments/store";
import type { ConsoleEnv } from "../context";
import { Cards, Chart, Layout, Table, Tabs, when } from "../ui";

const DAYS = { "30d": 30, "90d": 90, "365d": 365 } as const;
const PAGE = 50;

export async function segmentsPage(c: Context<ConsoleEnv>) {
  const segments = (await listSegments(c.env.DB)).filter((s) => s.deletedAt === null);
  return c.html(
    <Layout title="Segments" page="segments" session={c.get("session")}>
      <Table
        empty="No segments: PUT /v1/segments/{id} (docs/segments.md)."
        head={["Segment", "Name", "Members", "Enabled", "Version", "Updated"]}
        rows={segments.map((s) => [s.id, s.definition.name, s.size, s.definition.enabled ? "yes" : "no", s.version, when(s.updatedAt)])}
      />
      <p>
        {segments.map((s) => (
          <>
            <a href={`/console/segments/${encodeURIComponent(s.id)}`}>{s.id}</a>{" "}
          </>
        ))}
      </p>
    </Layout>,
  );
}

export async function segmentPage(c: Context<ConsoleEnv>) {
  const segment = await getSegment(c.env.DB, c.req.param("id") ?? "");
  if (!segment || segment.deletedAt !== null) return c.html(<Layout title="No such segment" page="segments" session={c.get("session")}><p><a href="/console/segments">All segments</a></p></Layout>, 404);
  const range = (Object.hasOwn(DAYS, c.req.query("range") ?? "") ? c.req.query("range") : "30d") as keyof typeof DAYS;
  const after = (c.req.query("after") ?? "").slice(0, 128);
  const [history, page] = await Promise.all([segmentHistory(c.env.DB, segment.id, DAYS[range]), memberPage(c.env, segment.id, after, PAGE)]);
  const times = history.map((d) => Date.parse(d.date) / 1000);
  const base = `/console/segments/${encodeURIComponent(segment.id)}`;
  return c.html(
    <Layout title={`Segment ${segment.definition.name}`} page="segments" session={c.get("session")}>
      <Cards items={[["members", segment.size], [`entered (${range})`, history.reduce((n, d) => n + d.entered, 0)], [`exited (${range})`, history.reduce((n, d) => n + d.exited, 0)], ["version", segment.version]]} />
      <Tabs base={base} current={range} options={Object.keys(DAYS)} />
      <div class="charts">
        <Chart id="chart-size" title="Size at the end of each day (UTC)" times={times} series={[{ label: "members", values: history.map((d) => d.size) }]} />
        <Chart id="chart-moves" title="Entries and exits per day" times={times} series={[{ label: "entered", values: history.map((d) => d.entered) }, { label: "exited", values: history.map((d) => d.exited) }]} />
      </div>
      <h2>
        Members <a href={`${base}/export`}>export all (NDJSON)</a>
      </h2>
      <Table empty="No members." head={["Customer", "User id", "Email", "Entered"]} rows={page.members.map((m) => [m.customerId, m.userId, m.email, when(m.enteredAt)])} />
      <p>
        {after && <a href={base}>First page</a>} {page.next && <a href={`${base}?range=${range}&after=${encodeURIComponent(page.next)}`}>Next page</a>}
      </p>
    </Layout>,
  );
}

export async function segmentExport(c: Context<ConsoleEnv>) {
  const segment = await getSegment(c.env.DB, c.req.param("id") ?? "");
  if (!segment || segment.deletedAt !== null) return c.notFound();
  return new Response(membersExport(c.env, segment.id), {
    headers: { "content-type": "application/x-ndjson; charset=utf-8", "content-disposition": `attachment; filename="${segment.id}-members.ndjson"`, "cache-control": "no-store" },
  });
}
