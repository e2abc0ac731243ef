import { describe, expect, it } from "vitest";
import { noSums } from "../../src/reports/store";
import { liftOf, reportLine } from "../../src/reports/summary";
import { reportCsv } from "../../src/reports/csv";

describe("a report line", () => {
  it("computes rates over delivered, else treated firings, else messages reached", () => {
    const s = { ...noSums(), delivered: 200, reached: 150, uniqueOpens: 100, uniqueClicks: 20, conversions: 5, revenue: 25_000 };
    const line = reportLine(s);
    expect(line).toMatchObject({ recipients: 200, openRate: 0.5, clickRate: 0.1, clickToOpenRate: 0.2, conversionRate: 0.025, revenue: 250, revenuePerRecipient: 1.25, lift: null });
    expect(reportLine({ ...s, delivered: 0 }).recipients).toBe(150);
  });

  it("estimates what a trigger adds against its holdout, with an interval that covers it", () => {
    // 1,000 treated: 100 converted, each for 50.00; 250 held out: 10 converted, each for 50.00.
    const s = { ...noSums(), treated: 1000, held: 250, treatedConversions: 100, heldConversions: 10, treatedRevenue: 100 * 5000, heldRevenue: 10 * 5000, treatedRevenueSq: 100 * 5000 ** 2, heldRevenueSq: 10 * 5000 ** 2 };
    const lift = liftOf(s)!;
    expect(lift.incrementalConversions.estimate).toBe(60);
    // se = 1000·sqrt(0.1·0.9/1000 + 0.04·0.96/250) = 15.61…
    expect(lift.incrementalConversions.low).toBeCloseTo(60 - 1.96 * 15.61, 0);
    expect(lift.incrementalConversions.high).toBeCloseTo(60 + 1.96 * 15.61, 0);
    expect(lift.incrementalRevenue.estimate).toBe(3000);
    expect(lift.incrementalRevenue.low).toBeLessThan(3000);
    expect(liftOf({ ...s, held: 0 })).toBeNull();
  });

  it("writes CSV a spreadsheet opens safely", () => {
    const csv = reportCsv("key", [["=cmd|' /C calc'!A0", reportLine({ ...noSums(), delivered: 3 })]]);
    const [header, row] = csv.split("\r\n");
    expect(header!.startsWith("key,recipients,delivered")).toBe(true);
    expect(row!.startsWith("'=cmd|' /C calc'!A0,3,3")).toBe(true);
  });
});
