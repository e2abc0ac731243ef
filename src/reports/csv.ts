/** Report lines as CSV (RFC 4180: quoted where needed, CRLF line ends), for spreadsheets. */
import type { ReportLine } from "./summary";

const COLUMNS: (keyof ReportLine)[] = ["recipients", "delivered", "reached", "opens", "uniqueOpens", "machineOpens", "clicks", "uniqueClicks", "scannerClicks", "conversions", "revenue", "unsubscribes", "complaints", "openRate", "clickRate", "clickToOpenRate", "conversionRate", "revenuePerRecipient", "unsubscribeRate"];
const LIFT_COLUMNS = ["treated", "held", "incrementalConversions", "incrementalConversionsLow", "incrementalConversionsHigh", "incrementalRevenue", "incrementalRevenueLow", "incrementalRevenueHigh"];

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  // A leading = + - @ would be a formula in a spreadsheet: quoted with a ' in front.
  const safe = /^[=+\-@\t\r]/.test(s) && Number.isNaN(Number(s)) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** `first`: the leading columns (`key`, or `day`) with their values per line. */
export function reportCsv(first: string, lines: readonly (readonly [string, ReportLine])[]): string {
  const rows = [[first, ...COLUMNS, ...LIFT_COLUMNS].join(",")];
  for (const [key, line] of lines) {
    const l = line.lift;
    const lift = l ? [l.treated, l.held, l.incrementalConversions.estimate, l.incrementalConversions.low, l.incrementalConversions.high, l.incrementalRevenue.estimate, l.incrementalRevenue.low, l.incrementalRevenue.high] : LIFT_COLUMNS.map(() => null);
    rows.push([key, ...COLUMNS.map((c) => line[c]), ...lift].map(cell).join(","));
  }
  return `${rows.join("\r\n")}\r\n`;
}
