/**
 * The shared security suite: every route of the app, read from its own route table and the
 * OpenAPI document written from the same definitions, declares who may call it, and every route
 * that needs a read or admin key refuses a missing key and a key of the wrong kind with the same
 * 401, before looking anything up: the answer for a customer that exists is the one for a
 * customer that does not (no enumeration).
 */
import { describe, expect, it } from "vitest";
import { rapportApp } from "../../src/index";
import { api, basic, bearer, ingest, KEYS, profileWhen, uid } from "../helpers";

type Operation = { security?: unknown[]; "x-rapport-scope"?: string; "x-rapport-aliases"?: string[] };
const SCOPES = ["admin", "read", "write", "signed", "public"];
const WRONG_KEYS: Record<string, string[]> = { admin: [KEYS.read, KEYS.write], read: [KEYS.write] };

async function operations() {
  const doc = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
}

describe("security of every route", () => {
  it("every operation declares its scope, and its security schemes say the same", async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(100);
    const undeclared = ops.filter(({ op }) => !SCOPES.includes(op["x-rapport-scope"] ?? "") || !Array.isArray(op.security)).map(({ method, path }) => `${method} ${path}`);
    expect(undeclared).toEqual([]);
    const keyless = ops.filter(({ op }) => ["admin", "read", "write"].includes(op["x-rapport-scope"]!) && op.security!.length === 0).map(({ method, path }) => `${method} ${path}`);
    expect(keyless).toEqual([]);
  });

  it("every route of the app's table is an operation of the document", async () => {
    const documented = new Set((await operations()).flatMap(({ method, path, op }) => [path, ...(op["x-rapport-aliases"] ?? [])].map((p) => `${method.toUpperCase()} ${p}`)));
    // The one route whose documented path is not a pattern the router can match.
    const spelledAs: Record<string, string> = { "/v1/content/{file}": "/v1/content/{block}.{format}" };
    // The console's pages are not API operations: test/console/console.test.ts holds them to their
    // own rule (every page and action refused without a session).
    const routes = rapportApp().routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/console"));
    expect(routes.length).toBeGreaterThan(100);
    const missing = routes
      .map((r) => {
        const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
        return `${r.method} ${spelledAs[path] ?? path}`;
      })
      .filter((op) => !documented.has(op));
    expect(missing).toEqual([]);
  });

  it("admin and read routes answer 401 to no key and to a key of the wrong kind, whether or not the customer exists", async () => {
    const userId = uid("sec");
    await ingest("/v1/identify", { userId, traits: { email: `${userId}@example.com` } });
    await profileWhen(userId, () => true);
    const guarded = (await operations()).filter(({ op }) => op["x-rapport-scope"] === "admin" || op["x-rapport-scope"] === "read");
    expect(guarded.length).toBeGreaterThan(80);
    const failures: string[] = [];
    for (const { path, method, op } of guarded) {
      for (const id of path.includes("{id}") ? [userId, uid("nobody")] : [userId]) {
        const url = path.replace(/\{id\}/g, encodeURIComponent(id)).replace(/\{[A-Za-z]+\}/g, "x");
        const body = method === "get" || method === "delete" ? undefined : "{}";
        for (const authorization of [undefined, ...WRONG_KEYS[op["x-rapport-scope"]!]!.flatMap((k) => [bearer(k), basic(k)])]) {
          const res = await api(url, { method: method.toUpperCase(), headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) }, body });
          const problem = res.headers.get("content-type") === "application/problem+json" ? ((await res.json()) as { code?: string; requestId?: string }) : null;
          if (res.status !== 401 || problem?.code !== "unauthorized" || !problem.requestId) failures.push(`${method.toUpperCase()} ${url} with ${authorization ?? "no key"}: ${res.status} ${problem?.code}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
