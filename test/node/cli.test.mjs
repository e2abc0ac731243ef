// The command line's own manners: every command answers --help with its usage (exit 0), and every
// script that calls a Rapport follows RAPPORT_URL and PORT, without a running Rapport: a small
// HTTP server on 127.0.0.1 records what they ask.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, RAPPORT_URL: "", PORT: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the command line", { timeout: 120_000 }, () => {
  it("answers --help for every command with its usage, and exits 0", async () => {
    const commands = [
      ["scripts/rapport.mjs", "--help"],
      ["scripts/rapport.mjs", "import", "--help"],
      ["scripts/rapport.mjs", "simulate", "--help"],
      ["scripts/rapport.mjs", "plans", "--help"],
      ["scripts/rapport.mjs", "replay", "-h"],
      ["scripts/train.mjs", "--help"],
      ["scripts/start.mjs", "--help"],
      ["scripts/load-triggers.mjs", "--help"],
      ["scripts/load-segments.mjs", "--help"],
      ["scripts/load-tracking-plans.mjs", "--help"],
      ["scripts/load-blocks.mjs", "--help"],
      ["scripts/load-experiments.mjs", "--help"],
      ["scripts/experiment-demo.mjs", "--help"],
    ];
    for (const args of commands) {
      const { code, stdout } = await run(args);
      assert.equal(code, 0, args.join(" "));
      assert.match(stdout, /^Usage: /, args.join(" "));
    }
    const unknown = await run(["scripts/rapport.mjs", "bogus"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "bogus"/);
  });

  describe("where it sends", () => {
    let server;
    const seen = [];
    const bodies = [];
    before(async () => {
      server = http.createServer(async (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        let body = "";
        for await (const chunk of req) body += chunk;
        if (body) bodies.push({ url: req.url, body: JSON.parse(body) });
        res.writeHead(200, { "content-type": "application/json" });
        // Enough of each answer for the commands to finish: a replay that is done at once, a load that saved.
        res.end(JSON.stringify({ id: "rpl_1", objects: 0, events: 0, finishedAt: new Date().toISOString(), version: 1 }));
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
    });
    after(() => server?.close());

    it("loads the trigger recipes for the local demo without quiet hours, and as they are otherwise", async () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const { loadTriggers } = await import("../../scripts/load-triggers.mjs");
      bodies.length = 0;
      await loadTriggers({ url, key: "ak_test", destination: "http://127.0.0.1:1/hook", localDemo: true });
      const demo = bodies.filter((b) => b.url.startsWith("/v1/triggers/"));
      assert.ok(demo.length >= 6);
      assert.ok(demo.every((b) => b.body.quietHours === undefined && b.body.destination.url === "http://127.0.0.1:1/hook"));
      bodies.length = 0;
      await loadTriggers({ url, key: "ak_test" });
      assert.ok(bodies.filter((b) => b.url.startsWith("/v1/triggers/")).every((b) => b.body.quietHours?.start === "21:00"));
    });

    it("follows RAPPORT_URL, then PORT", async () => {
      const port = server.address().port;
      seen.length = 0;
      const viaUrl = await run(["scripts/rapport.mjs", "replay", "--from", "2026-01-01"], { RAPPORT_URL: `http://127.0.0.1:${port}` });
      assert.equal(viaUrl.code, 0, viaUrl.stderr);
      assert.ok(seen.includes("POST /v1/admin/archive/replays"), seen.join(", "));
      seen.length = 0;
      const viaPort = await run(["scripts/load-segments.mjs"], { PORT: String(port) });
      assert.equal(viaPort.code, 0, viaPort.stderr);
      assert.ok(seen.some((s) => s.startsWith("PUT /v1/segments/")), seen.join(", "));
    });
  });
});
