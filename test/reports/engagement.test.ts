import { beforeEach, describe, expect, it } from "vitest";
import { admin, eventually, ingest, uid } from "../helpers";
import { fetchUrl, forgetCatalogCache, linksOf, putBlock, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

interface Line {
  key: string;
  uniqueOpens: number;
  opens: number;
  machineOpens: number;
  clicks: number;
  uniqueClicks: number;
  conversions: number;
  revenue: number;
  reached: number;
}

async function reportLine(by: string, key: string, ready: (l: Line) => boolean): Promise<Line> {
  return eventually(async () => {
    const res = await admin(`/v1/reports/engagement?by=${by}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { lines: Line[] };
    const line = body.lines.find((l) => l.key === key);
    return line && ready(line) ? line : null;
  }, `the ${by} report line of ${key}`);
}

describe("engagement reports", () => {
  it("count a message's human and machine opens apart, its click, and the order it brought, per trigger and per block", async () => {
    const block = uid("grid");
    const trigger = uid("trg");
    const delivery = uid("dlv");
    await putBlock(block, { html: `{% for p in products %}<a href="{{ p.click_url }}">{{ p.name }}</a>{% endfor %}<img src="{{ block.pixel_url }}">`, products: { source: "recommended", limit: 2 }, links: { fallbackUrl: "https://shop.example/" } });
    const { userId } = await shopper();
    const { token } = await linksOf(block, userId);
    // The ESP fetches the content at send time naming the message: its links and pixel carry the ids on.
    const html = await (await fetchUrl(`${token.html}&d=${delivery}&tr=${trigger}`)).text();
    const pixel = /src="([^"]*\/v1\/o\/[^"]*)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    const link = /href="([^"]*\/v1\/r\/[^"]*)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    expect(pixel).toContain(`d=${delivery}`);
    expect(link).toContain(`tr=${trigger}`);

    await fetchUrl(pixel, { "user-agent": "Mozilla/5.0", "cf-connecting-ip": "17.58.10.1" });
    await fetchUrl(pixel, { "user-agent": PHONE });
    await fetchUrl(pixel, { "user-agent": PHONE });
    expect((await fetchUrl(link, { "user-agent": PHONE })).status).toBe(302);
    await reportLine("trigger", trigger, (l) => l.clicks === 1 && l.opens === 2 && l.machineOpens === 1);
    await ingest("/v1/track", { userId, event: "Order Completed", properties: { order_id: uid("o"), revenue: 42.5 } });

    const line = await reportLine("trigger", trigger, (l) => l.conversions === 1);
    expect(line).toMatchObject({ reached: 1, opens: 2, uniqueOpens: 1, machineOpens: 1, clicks: 1, uniqueClicks: 1, conversions: 1, revenue: 42.5 });
    const byBlock = await reportLine("block", block, (l) => l.conversions === 1);
    expect(byBlock).toMatchObject({ uniqueOpens: 1, machineOpens: 1, uniqueClicks: 1, revenue: 42.5 });

    // Day by day, and as CSV.
    const daily = (await (await admin(`/v1/reports/engagement/trigger/${trigger}`)).json()) as { total: Line; days: { day: string }[] };
    expect(daily.total.conversions).toBe(1);
    expect(daily.days.map((d) => d.day)).toEqual([new Date().toISOString().slice(0, 10)]);
    const csv = await admin(`/v1/reports/engagement?by=trigger&format=csv`);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const row = (await csv.text()).split("\r\n").find((r) => r.startsWith(`${trigger},`));
    expect(row).toBeDefined();
  });

  it("refuses a period that is not one, with the field", async () => {
    const res = await admin("/v1/reports/engagement?from=2026-02-01&to=2026-01-01");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(await res.json())).toContain("from");
  });
});
