// Shared by `npm start` and `npm run bench`: the local state directory, wrangler invocations,
// and the demo keys' hashes (computed exactly as src/keys/store.ts hashKey does).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
export const OFFLINE_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_D1_WARNING: "true" };

export const DEMO_KEYS = { write: "wk_local_demo", read: "rk_local_demo", admin: "ak_local_demo" };
/** Must match `hashKey` in src/keys/store.ts; `npm start` checks the keys work after seeding. */
export const hashKey = (plaintext) => createHash("sha256").update(`rapport-key:${plaintext}`).digest("hex");

export function wrangler(args, { stateDir, config = "wrangler.toml" } = {}) {
  const result = spawnSync(WRANGLER, [...args, "--config", config, ...(stateDir ? ["--persist-to", stateDir] : [])], { cwd: ROOT, env: OFFLINE_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export function applyMigrationsAndSeedKeys(stateDir) {
  // Every D1 database gets the same migrations: DB (control and shard) and the other shards.
  for (const binding of ["DB", "SHARD_1"]) wrangler(["d1", "migrations", "apply", binding, "--local"], { stateDir });
  const now = Date.now();
  const values = Object.entries(DEMO_KEYS)
    .map(([kind, key]) => `('key_demo_${kind}', '${kind}', '${hashKey(key)}', '${key.slice(0, 7)}', 'Local demo ${kind} key', ${now}, NULL)`)
    .join(", ");
  wrangler(["d1", "execute", "DB", "--local", "--command", `INSERT OR IGNORE INTO api_keys (id, kind, hash, prefix, name, created_at, revoked_at) VALUES ${values};`], { stateDir });
}

/**
 * Starts `wrangler dev` on 127.0.0.1:port; resolves once /health answers. `echo: false` keeps its
 * output off the terminal (lines still reach `onLine`). `env` adds environment variables.
 */
export async function startDev({ port, stateDir, config = "wrangler.toml", echo = true, onLine, env = {}, vars = [] }) {
  // `vars`: ["NAME:value", …] over wrangler.toml's [vars] (a benchmark's variant of the configuration).
  const varArgs = vars.flatMap((v) => ["--var", v]);
  const child = spawn(WRANGLER, ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", stateDir, "--show-interactive-dev-session=false", "--log-level", "log", ...varArgs], {
    cwd: ROOT,
    env: { ...OFFLINE_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forward = (stream, out) => {
    let buffer = "";
    stream.on("data", (chunk) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        onLine?.(line);
        if (echo) out.write(`${line}\n`);
      }
    });
  };
  // Never leave a wrangler/workerd behind when this process ends, however it ends.
  process.on("exit", () => child.kill("SIGTERM"));
  forward(child.stdout, process.stdout);
  forward(child.stderr, process.stderr);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error("wrangler dev did not answer /health within 60 s");
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url, stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}
