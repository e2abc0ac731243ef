import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { checkOutboundUrl, fetchOutbound, OutboundRefused } from "../../src/kernel/outbound-url";
import { lookup } from "../../src/enrichment/lookup";
import { EnricherDefinition } from "../../src/enrichment/definition";
import { attemptDelivery } from "../../src/delivery/consumer";
import { BASE, bearer, KEYS, uid } from "../helpers";

const deployed = { allowPrivate: false };

describe("outbound URLs an admin configures", () => {
  it.each([
    "http://127.0.0.1:8789/hook",
    "https://localhost/hook",
    "https://localhost./hook",
    "https://shop.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "https://172.31.255.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://intranet/",
    "ftp://example.com/file",
    "file:///etc/passwd",
    "https://user:pass@example.com/",
  ])("refuses %s when private hosts are not allowed", (url) => {
    const verdict = checkOutboundUrl(url, deployed);
    expect(verdict.ok).toBe(false);
  });

  it("allows public hosts, and private ones only where the deployment says so", () => {
    expect(checkOutboundUrl("https://api.example.com/hook", deployed).ok).toBe(true);
    expect(checkOutboundUrl("https://8.8.8.8/", deployed).ok).toBe(true);
    expect(checkOutboundUrl("https://[2606:4700:4700::1111]/", deployed).ok).toBe(true);
    expect(checkOutboundUrl("http://127.0.0.1:8789/hook", { allowPrivate: true }).ok).toBe(true);
    expect(checkOutboundUrl("http://api.example.com/hook", { allowPrivate: false, httpsOnly: true })).toEqual({ ok: false, reason: "must be https" });
  });

  it("checks every redirect before following it", async () => {
    // A public service that redirects to the metadata address: refused before the second call.
    const calls: string[] = [];
    const fake = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
    }) as typeof fetch;
    await expect(fetchOutbound("https://api.example.com/lookup", {}, deployed, fake)).rejects.toBeInstanceOf(OutboundRefused);
    expect(calls).toEqual(["https://api.example.com/lookup"]);
  });
});

describe("outbound URLs in a deployed configuration (ALLOW_PRIVATE_OUTBOUND off)", () => {
  const deployedEnv = { ...env, ALLOW_PRIVATE_OUTBOUND: "false" } as unknown as Env;
  const call = (path: string, method: string, body?: unknown) =>
    worker.fetch(new Request(`${BASE}${path}`, { method, headers: { authorization: bearer(KEYS.admin), "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }), deployedEnv, createExecutionContext());

  it("refuses a trigger destination on a private address at save, naming the field", async () => {
    for (const url of ["https://169.254.169.254/latest", "https://10.0.0.1/hook", "https://localhost/hook", "http://127.0.0.1:8789/hook"]) {
      const res = await call(`/v1/triggers/${uid("ssrf").toLowerCase()}`, "PUT", { name: "SSRF", start: { event: "X" }, wait: { minutes: 5 }, destination: { url } });
      expect(res.status).toBe(400);
      const problem = (await res.json()) as any;
      expect(problem.errors[0].field).toBe("destination.url");
    }
    const ok = await call(`/v1/triggers/${uid("public").toLowerCase()}`, "PUT", { name: "Public", start: { event: "X" }, wait: { minutes: 5 }, destination: { url: "https://esp.example.com/hook" } });
    expect(ok.status).toBe(201);
  });

  it("refuses an enricher pointed at a private address at save, and never calls one saved earlier", async () => {
    const id = uid("enr").toLowerCase();
    const definition = { name: "Metadata", url: "http://169.254.169.254/latest/meta-data/{key}", traits: { role: "role" } };
    const refused = await call(`/v1/enrichers/${id}`, "PUT", definition);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0].field).toBe("url");
    // Saved under the local policy, then looked up under the deployed one: not called.
    let called = false;
    const result = await lookup(deployedEnv, EnricherDefinition.parse(definition), "example.com", (async () => {
      called = true;
      return new Response("{}");
    }) as typeof fetch);
    expect(result).toMatchObject({ status: "failed", reason: expect.stringContaining("refused") });
    expect(called).toBe(false);
  });

  it("does not deliver to a destination that became private, and does not retry it", async () => {
    const outcome = await attemptDelivery(
      deployedEnv,
      { deliveryId: "d1", destination: { url: "http://127.0.0.1:1/hook", format: "rapport" }, payload: { customer: { id: "cus_x" } } } as never,
      1,
    );
    expect(outcome).toMatchObject({ status: "rejected", statusCode: null, error: expect.stringContaining("destination refused") });
  });
});
