// A webhook receiver on 127.0.0.1, for `npm start` (prints each delivery and whether its
// signature verifies) and for the tests (records requests; can be told to fail).
//
//   POST /webhooks/<name>          records the request; answers 200, or the scripted failure
//   POST /_control/<name>          body {"fail": n, "status": 503}: the next n requests get status
//   GET  /_received/<name>         the recorded requests, oldest first
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

/** Verifies `Rapport-Signature: t=…,v1=…` the way a receiver should (see docs/triggers.md). */
export function verify(header, body, secret, toleranceSeconds = 300) {
  const parts = String(header ?? "").split(",").map((p) => p.trim().split("=", 2));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return parts.some(([k, v]) => k === "v1" && v && v.length === expected.length * 2 && timingSafeEqual(Buffer.from(v, "hex"), expected));
}

export async function startReceiver({ port = 0, secret, print = false } = {}) {
  const received = new Map();
  const scripted = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [, kind, name = ""] = (req.url ?? "").split("/");
      const reply = (status, json) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(json));
      };
      if (kind === "_control" && req.method === "POST") {
        scripted.set(name, JSON.parse(body || "{}"));
        return reply(200, { ok: true });
      }
      if (kind === "_received" && req.method === "GET") return reply(200, received.get(name) ?? []);
      if (kind !== "webhooks" || req.method !== "POST") return reply(404, { error: "not found" });
      const script = scripted.get(name);
      const failing = script !== undefined && script.fail > 0;
      if (failing) script.fail -= 1;
      const status = failing ? (script.status ?? 500) : 200;
      const list = received.get(name) ?? [];
      list.push({ headers: req.headers, body, status, at: Date.now() });
      received.set(name, list);
      if (print) {
        const payload = JSON.parse(body);
        const ok = secret ? (verify(req.headers["rapport-signature"], body, secret) ? "signature ok" : "SIGNATURE INVALID") : "";
        // Alert notifications (docs/alerting.md) say what fired; trigger deliveries, for whom.
        if (String(payload.type).startsWith("alert.")) console.log(`[alert] ${payload.summary} ${payload.consoleUrl ?? ""} ${ok}`);
        else console.log(`[webhook] ${payload.type ?? "?"} ${payload.trigger?.id ?? ""} → ${payload.customer?.id ?? ""} (${payload.id ?? ""}) ${ok}`);
      }
      reply(status, { received: status < 300 });
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((r) => server.close(r)) };
}
