import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, api, bearer, getCustomer, KEYS, uid } from "../helpers";
import { processEvents } from "../../src/pipeline/process";

describe("admin: API keys", () => {
  it("creates a read key that works, stores only its hash, and revokes it", async () => {
    const created = await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind: "read", name: "ESP merge tags" }) });
    expect(created.status).toBe(201);
    const key = (await created.json()) as any;
    expect(key.secret).toMatch(/^rk_[A-Za-z0-9_-]{32}$/);
    expect(key.kind).toBe("read");

    const rows = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(key.secret);
    expect(JSON.stringify(rows.results)).not.toContain(key.secret.slice(8));

    const userId = uid();
    await processEvents(env, [{ type: "identify", userId, messageId: uid("m"), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "t" }]);
    expect((await getCustomer(userId, key.secret)).status).toBe(200);

    const listed = (await (await admin("/v1/admin/keys")).json()) as any;
    expect(listed.keys.find((k: any) => k.id === key.id)).toMatchObject({ name: "ESP merge tags", revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(key.secret);

    const revoked = await admin(`/v1/admin/keys/${key.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as any).revokedAt).not.toBeNull();
    expect((await getCustomer(userId, key.secret)).status).toBe(401);
  });

  it("creates a write key that can ingest but not read", async () => {
    const key = (await (await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind: "write", name: "Storefront" }) })).json()) as any;
    const res = await api("/v1/track", { method: "POST", body: JSON.stringify({ writeKey: key.secret, userId: "w", event: "e" }) });
    expect(res.status).toBe(200);
    expect((await getCustomer("w", key.secret)).status).toBe(401);
  });

  it("refuses an invalid key request naming the field", async () => {
    const res = await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind: "root", name: "" }) });
    expect(res.status).toBe(400);
    const fields = ((await res.json()) as any).errors.map((e: any) => e.field).sort();
    expect(fields).toEqual(["kind", "name"]);
  });

  it("answers 404 when revoking a key that does not exist", async () => {
    expect((await admin("/v1/admin/keys/key_nope", { method: "DELETE" })).status).toBe(404);
  });
});

describe("admin: security", () => {
  it("refuses read and write keys on every admin endpoint", async () => {
    const endpoints: [string, string][] = [
      ["GET", "/v1/admin/keys"],
      ["POST", "/v1/admin/keys"],
      ["DELETE", "/v1/admin/keys/key_demo_read"],
      ["GET", "/v1/admin/quarantine"],
      ["GET", "/v1/admin/dead-letters"],
      ["POST", "/v1/admin/dead-letters/replay"],
    ];
    for (const [method, path] of endpoints) {
      for (const key of [KEYS.read, KEYS.write, "ak_wrong"]) {
        const res = await api(path, { method, headers: { authorization: bearer(key) }, body: method === "POST" ? "{}" : null });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
    // The demo read key still works: nothing above revoked it.
    const list = (await (await admin("/v1/admin/keys")).json()) as any;
    expect(list.keys.find((k: any) => k.id === "key_demo_read").revokedAt).toBeNull();
  });
});

describe("admin: quarantine and dead letters", () => {
  it("pages through the quarantine newest first", async () => {
    for (let i = 0; i < 3; i++) await api("/v1/track", { method: "POST", headers: { authorization: `Basic ${btoa(`${KEYS.write}:`)}` }, body: JSON.stringify({ event: `page-test-${i}` }) });
    const { eventually } = await import("../helpers");
    const first = await eventually(async () => {
      const page = (await (await admin("/v1/admin/quarantine?limit=2")).json()) as any;
      return page.items.length === 2 && page.items[0].raw.includes("page-test-2") ? page : null;
    }, "quarantine page");
    expect(first.items[1].raw).toContain("page-test-1");
    const second = (await (await admin(`/v1/admin/quarantine?limit=2&before=${first.next}`)).json()) as any;
    expect(second.items[0].raw).toContain("page-test-0");
  });

  it("answers 404 for an unknown dead letter and 400 for a bad query", async () => {
    expect((await admin("/v1/admin/dead-letters/nope")).status).toBe(404);
    expect((await admin("/v1/admin/dead-letters/nope/replay", { method: "POST" })).status).toBe(404);
    const bad = await admin("/v1/admin/dead-letters?status=maybe");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].field).toBe("status");
  });
});
