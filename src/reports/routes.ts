/**
 * `/v1/reports/engagement` (admin keys): per trigger, block or experiment variant over a period,
 * and one of them day by day, as JSON or CSV (docs/engagement.md, "Reports"). Sums of daily rows
 * the pipeline keeps as it applies email events: no scan of events, however long the period.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { App } from "../api/app";
import type { AppEnv } from "../api/context";
import { route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { shards } from "../db/shards";
import { reportCsv } from "./csv";
import { noSums, sumsByDay, sumsByKey, type MetricSums } from "./store";
import { reportLine } from "./summary";
import { METRICS } from "../profiles/engagement";

const TAG = "Reports";
const DAY_MS = 86_400_000;
const MAX_DAYS = 400;

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD").refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), "must be a real date");
const Period = z.object({
  from: Day.optional().describe("First day (UTC), inclusive; 29 days before `to` by default"),
  to: Day.optional().describe("Last day (UTC), inclusive; today by default"),
  format: z.enum(["json", "csv"]).default("json").describe("`csv` for spreadsheets"),
});
const By = z.enum(["trigger", "block", "variant"]).describe("`trigger`, `block`, or `variant` (`experiment:variant`)");

const dayOf = (d: string) => Math.floor(Date.parse(`${d}T00:00:00Z`) / DAY_MS);
const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

function period(q: z.infer<typeof Period>, now = Date.now()): { from: number; to: number } {
  const to = q.to ? dayOf(q.to) : Math.floor(now / DAY_MS);
  const from = q.from ? dayOf(q.from) : to - 29;
  if (from > to) throw new ApiError("validation_failed", "Invalid period", [{ field: "from", message: "must not be after `to`" }]);
  if (to - from + 1 > MAX_DAYS) throw new ApiError("validation_failed", "Invalid period", [{ field: "from", message: `a period is at most ${MAX_DAYS} days` }]);
  return { from, to };
}

function total(all: Iterable<MetricSums>): MetricSums {
  const t = noSums();
  for (const s of all) for (const m of METRICS) t[m] += s[m];
  return t;
}

const csv = (c: Context<AppEnv>, body: string, name: string) => c.body(body, 200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${name}.csv"` });

export function registerReportRoutes(app: App): void {
  route(
    app,
    {
      method: "get",
      path: "/v1/reports/engagement",
      tag: TAG,
      scope: "admin",
      summary:
        "Engagement per trigger, block or experiment variant over a period: delivered, reached, human opens (unique), machine opens, clicks (unique), scanner clicks, attributed conversions and revenue, unsubscribes, the rates, and for triggers with a holdout the incremental conversions and revenue with a 95 % interval. JSON or CSV.",
      query: Period.extend({ by: By.default("trigger") }),
      responses: { 200: "The report" },
    },
    async (c, { query }) => {
      const p = period(query);
      const byKey = await sumsByKey(shards(c.env), query.by, p.from, p.to);
      const lines = [...byKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, s]) => [key, reportLine(s)] as const);
      if (query.format === "csv") return csv(c, reportCsv(query.by, lines), `engagement-${query.by}-${dateOf(p.from)}-${dateOf(p.to)}`);
      return c.json({ by: query.by, from: dateOf(p.from), to: dateOf(p.to), lines: lines.map(([key, line]) => ({ key, ...line })), total: reportLine(total(byKey.values())) });
    },
  );
  route(
    app,
    {
      method: "get",
      path: "/v1/reports/engagement/{by}/{key}",
      tag: TAG,
      scope: "admin",
      summary: "One trigger, block or variant day by day over a period, with the period's total. JSON or CSV.",
      params: z.object({ by: By, key: z.string().min(1).max(200) }),
      query: Period,
      responses: { 200: "The report" },
    },
    async (c, { params, query }) => {
      const p = period(query);
      const byDay = await sumsByDay(shards(c.env), params.by, params.key, p.from, p.to);
      const lines = [...byDay].map(([day, s]) => [dateOf(day), reportLine(s)] as const);
      if (query.format === "csv") return csv(c, reportCsv("day", lines), `engagement-${params.by}-${params.key}`.replace(/[^A-Za-z0-9_.-]/g, "_"));
      return c.json({ by: params.by, key: params.key, from: dateOf(p.from), to: dateOf(p.to), total: reportLine(total(byDay.values())), days: lines.map(([day, line]) => ({ day, ...line })) });
    },
  );
}
