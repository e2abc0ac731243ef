/**
 * The console's page shell and the pieces every page uses: the top bar, charts (data carried in
 * the page as JSON, drawn by uPlot), figure cards, and action buttons that read-only sessions never see.
 */
import type { Child, FC } from "hono/jsx";
import type { ConsoleSession } from "../keys/console-sessions";

export const PAGES = [
  ["pipeline", "Pipeline"],
  ["profiles", "Profiles"],
  ["segments", "Segments"],
  ["triggers", "Triggers"],
  ["content", "Content"],
  ["data-quality", "Data quality"],
  ["alerts", "Alerts"],
] as const;
export type PageName = (typeof PAGES)[number][0];

export const Layout: FC<{ title: string; page: PageName | null; session: ConsoleSession | null; children?: Child }> = ({ title, page, session, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Rapport console`}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href="/console/assets/uplot.css" />
      <link rel="stylesheet" href="/console/assets/console.css" />
    </head>
    <body>
      <header>
        <a class="brand" href="/console">
          Rapport
        </a>
        {session && (
          <nav>
            {PAGES.map(([name, label]) => (
              <a href={`/console/${name}`} aria-current={name === page ? "page" : undefined}>
                {label}
              </a>
            ))}
          </nav>
        )}
        {session && (
          <div class="who">
            <span>
              {session.who} · {session.role === "admin" ? "admin" : "read-only"}
            </span>
            <form method="post" action="/console/sign-out" class="inline">
              <input type="hidden" name="csrf" value={session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          </div>
        )}
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
      <script src="/console/assets/uplot.js"></script>
      <script src="/console/assets/console.js"></script>
    </body>
  </html>
);

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/**
 * A time chart, or with `time: false` and `labels` a bar chart by category; `unit` formats the y
 * axis: count, ms or % (fractions). Sparse series show their points.
 */
export const Chart: FC<{ id: string; title: string; times: number[]; series: ChartSeries[]; unit?: "count" | "ms" | "%"; time?: boolean; xLabel?: string; bars?: boolean; labels?: string[] }> = (p) => {
  // The data is JSON inside the page: `<` escaped so that no value can close the script element.
  const json = JSON.stringify({ times: p.times, series: p.series, unit: p.unit ?? "count", time: p.time ?? true, xLabel: p.xLabel, bars: p.bars ?? false, labels: p.labels }).replaceAll("<", "\\u003c");
  return (
    <figure class="chart" id={p.id}>
      <figcaption>{p.title}</figcaption>
      <div class="plot" />
      <script type="application/json" dangerouslySetInnerHTML={{ __html: json }} />
    </figure>
  );
};

export const Cards: FC<{ items: [string, string | number | null][] }> = ({ items }) => (
  <div class="cards">
    {items.map(([label, value]) => (
      <div class="card">
        <b>{value === null ? "–" : typeof value === "number" ? value.toLocaleString("en-US") : value}</b>
        <span>{label}</span>
      </div>
    ))}
  </div>
);

/** A button posting to a console action with the session's CSRF token; nothing for read-only sessions. */
export const Action: FC<{ session: ConsoleSession; action: string; label: string; confirm?: string; fields?: Record<string, string> }> = ({ session, action, label, confirm, fields }) =>
  session.role !== "admin" ? null : (
    <form method="post" action={action} class="inline" data-confirm={confirm}>
      <input type="hidden" name="csrf" value={session.csrf} />
      {Object.entries(fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit">{label}</button>
    </form>
  );

export const Tabs: FC<{ base: string; current: string; options: readonly string[] }> = ({ base, current, options }) => (
  <div class="tabs">
    {options.map((o) => (
      <a href={`${base}${base.includes("?") ? "&" : "?"}range=${o}`} aria-current={o === current ? "page" : undefined}>
        {o}
      </a>
    ))}
  </div>
);

/** A JSON value as the console shows it: short ones inline, long ones folded. */
export const Json: FC<{ value: unknown }> = ({ value }) => {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  if (text === undefined) return <span class="muted">–</span>;
  return text.length <= 80 && !text.includes("\n") ? <code>{text}</code> : <details><summary>{text.slice(0, 60)}…</summary><pre>{text}</pre></details>;
};

/** Epoch ms or ISO as `2026-12-07 19:22:36` UTC. */
export function when(t: number | string | null | undefined): string {
  if (t === null || t === undefined || t === "") return "–";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().slice(0, 19).replace("T", " ");
}

export function ms(v: number | null): string | null {
  return v === null ? null : v >= 1000 ? `${(v / 1000).toLocaleString("en-US")} s` : `${v} ms`;
}

/** A cell: text, a number (right-aligned), markup, or null (shown as a dash). */
export type Cell = Child | number | null;

/** A table that scrolls sideways on its own on a small screen; `empty` is said instead of an empty one. */
export const Table: FC<{ head: string[]; rows: Cell[][]; empty: string; id?: string }> = ({ head, rows, empty, id }) =>
  rows.length === 0 ? (
    <p class="muted">{empty}</p>
  ) : (
    <div class="table" id={id}>
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {r.map((v) => (
                <td class={typeof v === "number" ? "num" : undefined}>{v ?? "–"}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
