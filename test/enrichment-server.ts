// Runs in Node (test/global-setup.ts): a company-data service on 127.0.0.1 for the enrichment
// tests, with the behaviours an enricher must survive: known and unknown domains, a slow answer,
// an outage that ends, and a key it insists on. GET /calls tells how often each domain was asked.
import http from "node:http";
import type { AddressInfo } from "node:net";

export const ENRICHMENT_TEST_KEY = "enrich_test_key";

const COMPANIES: Record<string, unknown> = {
  "acme.test": { name: "Acme", category: { industry: "Retail" }, metrics: { employees: 120 } },
  "globex.test": { name: "Globex", category: { industry: "Energy" }, metrics: { employees: null } },
  "initech.test": { name: "Initech", category: { industry: "Software" } },
};

export async function startEnrichmentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/calls") return json(200, Object.fromEntries(calls));
    if (url.pathname !== "/companies") return json(404, { error: "no such path" });
    if (req.headers.authorization !== `Bearer ${ENRICHMENT_TEST_KEY}`) return json(401, { error: "bad key" });
    const domain = url.searchParams.get("domain") ?? "";
    const n = (calls.get(domain) ?? 0) + 1;
    calls.set(domain, n);
    if (domain.startsWith("slow")) return void setTimeout(() => json(200, { name: "Too late" }), 2_000);
    // Down for the first two calls (one answers 503, the other asks to come back), then fine.
    if (domain.startsWith("flaky")) {
      if (n === 1) return json(503, { error: "down" });
      if (n === 2) {
        res.writeHead(429, { "retry-after": "0" });
        return res.end();
      }
      return json(200, { name: "Flaky Co", category: { industry: "Logistics" } });
    }
    // `x.acme.test` is Acme too: each test uses domains of its own, so the call counts are its own.
    const company = COMPANIES[domain.split(".").slice(-2).join(".")];
    return company ? json(200, company) : json(404, { error: "unknown domain" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
