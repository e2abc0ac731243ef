/**
 * Content: blocks with their versions; a live preview of any version for any customer and format
 * (what /preview does, inside the console's session); engagement per block over 30 days as a
 * table and a chart per day; experiments with each variant's results as charts.
 */
import type { Context } from "hono";
import { shards } from "../../db/shards";
import { FORMATS, type Format } from "../../content/definition";
import { previewBlock } from "../../content/preview";
import { listBlocks, listBlockVersions } from "../../content/store";
import { listExperiments } from "../../experiments/store";
import { evaluateExperiment } from "../../maintenance/experiments";
import { sumsByDay, sumsByKey } from "../../reports/store";
import { reportLine } from "../../reports/summary";
import type { ConsoleEnv } from "../context";
import { Chart, Layout, Table, when } from "../ui";

const DAY_MS = 86_400_000;
const REPORT_DAYS = 30;
const pct = (x: number | null) => (x === null ? null : `${(x * 100).toFixed(1)} %`);

export async function contentPage(c: Context<ConsoleEnv>) {
  const blocks = await listBlocks(c.env.DB);
  const chosen = blocks.find((b) => b.id === c.req.query("block")) ?? blocks[0];
  const customer = (c.req.query("customer") ?? "").slice(0, 512);
  const format = (FORMATS as readonly string[]).includes(c.req.query("format") ?? "") ? (c.req.query("format") as Format) : "html";
  const today = Math.floor(Date.now() / DAY_MS);
  const from = today - REPORT_DAYS + 1;
  const map = shards(c.env);
  const [versions, byBlock, byDay, experiments] = await Promise.all([
    chosen ? listBlockVersions(c.env.DB, chosen.id) : [],
    sumsByKey(map, "block", from, today),
    chosen ? sumsByDay(map, "block", chosen.id, from, today) : new Map(),
    listExperiments(c.env.DB),
  ]);
  const version = versions.find((v) => String(v.version) === c.req.query("version"))?.version;
  const results = await Promise.all(experiments.filter((e) => e.definition.status !== "draft").map(async (e) => ({ e, ...(await evaluateExperiment(c.env, e)) })));
  const days = Array.from({ length: REPORT_DAYS }, (_, i) => from + i);
  const line = (d: number) => (byDay.has(d) ? reportLine(byDay.get(d)) : null);
  const previewUrl = chosen && customer ? `/console/content/preview?${new URLSearchParams({ block: chosen.id, customer, format, ...(version ? { version: String(version) } : {}) })}` : null;
  return c.html(
    <Layout title="Content" page="content" session={c.get("session")}>
      <h2>Blocks</h2>
      <Table
        empty="No blocks: PUT /v1/blocks/{id} (docs/content.md)."
        head={["Block", "Latest version", "Published", "Updated"]}
        rows={blocks.map((b) => [b.id, b.version, b.publishedVersion ?? "draft", when(b.updatedAt)])}
      />
      <h2 id="preview">Preview</h2>
      <form method="get" action="/console/content#preview" class="search">
        <select name="block" aria-label="Block">
          {blocks.map((b) => (
            <option value={b.id} selected={b.id === chosen?.id}>
              {b.id}
            </option>
          ))}
        </select>
        <select name="version" aria-label="Version">
          <option value="">latest</option>
          {versions.map((v) => (
            <option value={String(v.version)} selected={v.version === version}>
              v{v.version} · {when(v.createdAt)}
            </option>
          ))}
        </select>
        <input type="search" name="customer" value={customer} placeholder="customer: demo-ada, email:…" aria-label="Customer" required />
        <select name="format" aria-label="Format">
          {FORMATS.map((f) => (
            <option value={f} selected={f === format}>
              {f}
            </option>
          ))}
        </select>
        <button type="submit">Render</button>
      </form>
      {previewUrl && (format === "png" || format === "svg" ? <img class="preview" src={previewUrl} alt={`${chosen?.id} for ${customer}`} style="max-width:100%" /> : <iframe class="preview" title="Preview" sandbox="" src={previewUrl} style="width:100%;height:60vh;border:1px solid #e2e8f0;background:#fff" />)}
      <h2>Engagement per block, last {REPORT_DAYS} days</h2>
      <Table
        empty="No email engagement recorded yet."
        head={["Block", "Delivered", "Unique opens", "Machine opens", "Unique clicks", "Scanner clicks", "Conversions", "Revenue", "Open rate", "Click rate"]}
        rows={[...byBlock].map(([key, s]) => {
          const l = reportLine(s);
          return [key, l.delivered, l.uniqueOpens, l.machineOpens, l.uniqueClicks, l.scannerClicks, l.conversions, l.revenue, pct(l.openRate), pct(l.clickRate)];
        })}
      />
      {chosen && (
        <div class="charts">
          <Chart
            id="chart-block-engagement"
            title={`${chosen.id}: opens, clicks and conversions per day`}
            times={days.map((d) => (d * DAY_MS) / 1000)}
            series={[
              { label: "unique opens", values: days.map((d) => line(d)?.uniqueOpens ?? 0) },
              { label: "machine opens", values: days.map((d) => line(d)?.machineOpens ?? 0) },
              { label: "unique clicks", values: days.map((d) => line(d)?.uniqueClicks ?? 0) },
              { label: "conversions", values: days.map((d) => line(d)?.conversions ?? 0) },
            ]}
          />
        </div>
      )}
      <h2>Experiments</h2>
      {results.length === 0 && <p class="muted">No experiment has run.</p>}
      {results.map(({ e, results: r }) => (
        <section>
          <h3>
            {e.id} on {e.definition.block}: {e.definition.status}, decision {r.decision.state}
            {r.decision.winner ? ` (${r.decision.winner})` : ""}
          </h3>
          <p class="muted">{r.decision.rule}</p>
          <div class="grid2">
            <Table
              empty="No exposures yet."
              head={["Variant", "Exposures", "Conversions", "Rate", "Effect (95 %)"]}
              rows={r.variants.map((v) => [v.variant + (v.control ? " (control)" : ""), v.exposures, v.conversions, pct(v.conversionRate), v.effect ? `${(v.effect.effect * 100).toFixed(1)} pts [${(v.effect.interval[0] * 100).toFixed(1)}, ${(v.effect.interval[1] * 100).toFixed(1)}]` : "–"])}
            />
            <Chart id={`chart-experiment-${e.id}`} title="Conversion rate per variant" unit="%" time={false} xLabel="variant" bars times={r.variants.map((_, i) => i)} labels={r.variants.map((v) => v.variant)} series={[{ label: "conversion rate", values: r.variants.map((v) => v.conversionRate) }]} />
          </div>
        </section>
      ))}
    </Layout>,
  );
}

/** The preview itself: rendered as the customer's email would show it, inside a sandboxed frame. */
export async function contentPreview(c: Context<ConsoleEnv>) {
  const format = (FORMATS as readonly string[]).includes(c.req.query("format") ?? "") ? (c.req.query("format") as Format) : "html";
  const version = Number(c.req.query("version")) || undefined;
  const preview = await previewBlock(c.env, c.req.query("block") ?? "", { version, format, customer: (c.req.query("customer") ?? "").slice(0, 512), origin: new URL(c.req.url).origin });
  if (!preview.found) return c.text(preview.detail, 404);
  return c.body(preview.body as string, 200, {
    "content-type": preview.contentType,
    "cache-control": "no-store",
    "x-rapport-fallback": preview.fallback ?? "none",
    "content-security-policy": "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src * data:",
    "x-content-type-options": "nosniff",
  });
}
