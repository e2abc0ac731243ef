import { describe, expect, it } from "vitest";
import { RECIPES } from "../../src/triggers/recipes";
import { admin, api, bearer, KEYS, uid } from "../helpers";
import { hookUrl, putTrigger } from "../trigger-helpers";

const definition = (overrides: Record<string, unknown> = {}) => ({
  name: "Browse abandonment",
  start: { event: `Viewed ${uid()}` },
  key: "product_id",
  cancel: { events: ["Order Completed"], sameKey: true },
  wait: { hours: 48 },
  destination: { url: hookUrl("admin") },
  ...overrides,
});

describe("/v1/triggers", () => {
  it("refuses an invalid definition with problem+json naming each field", async () => {
    const res = await putTrigger(uid("t"), { ...definition(), wait: { hours: 0 }, quietHours: { start: "25:00", end: "08:00", defaultTimeZone: "Mars/Olympus" }, destination: { url: "http://example.com/hook" }, key: undefined } as never);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as any;
    const fields = body.errors.map((e: any) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["wait", "quietHours.start", "destination.url", "cancel.sameKey"]));
    expect(body.requestId).toBeTruthy();
  });

  it("versions every change, guards concurrent edits with If-Match, rolls back and deletes", async () => {
    const id = uid("t");
    const first = await putTrigger(id, definition({ wait: { hours: 48 } }));
    expect(first.status).toBe(201);
    expect(first.headers.get("etag")).toBe('"1"');
    const same = await putTrigger(id, (await first.json() as any).definition);
    expect(((await same.json()) as any).version).toBe(1);

    const second = await admin(`/v1/triggers/${id}`, { method: "PUT", headers: { "if-match": '"1"' }, body: JSON.stringify(definition({ wait: { hours: 24 } })) });
    expect(second.status).toBe(200);
    expect(((await second.json()) as any).version).toBe(2);
    const stale = await admin(`/v1/triggers/${id}`, { method: "PUT", headers: { "if-match": '"1"' }, body: JSON.stringify(definition({ wait: { hours: 12 } })) });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as any).currentVersion).toBe(2);

    const versions = (await (await admin(`/v1/triggers/${id}/versions`)).json()) as any;
    expect(versions.versions.map((v: any) => [v.version, v.definition.wait.hours])).toEqual([[2, 24], [1, 48]]);
    const rolledBack = await admin(`/v1/triggers/${id}/rollback`, { method: "POST", body: JSON.stringify({ version: 1 }) });
    expect(((await rolledBack.json()) as any)).toMatchObject({ version: 3, definition: { wait: { hours: 48 } } });

    expect((await admin(`/v1/triggers/${id}`, { method: "DELETE" })).status).toBe(204);
    const listed = (await (await admin("/v1/triggers")).json()) as any;
    expect(listed.triggers.map((t: any) => t.id)).not.toContain(id);
    expect(((await (await admin(`/v1/triggers/${id}`)).json()) as any).deletedAt).toBeTruthy();
  });

  it("lists the shipped recipes", async () => {
    const body = (await (await admin("/v1/triggers/recipes")).json()) as any;
    expect(body.recipes.map((r: any) => r.id).sort()).toEqual(Object.keys(RECIPES).sort());
  });

  it("is for admin keys only", async () => {
    for (const key of [KEYS.read, KEYS.write]) {
      expect((await api("/v1/triggers", { headers: { authorization: bearer(key) } })).status).toBe(401);
      expect((await api("/v1/deliveries", { headers: { authorization: bearer(key) } })).status).toBe(401);
      expect((await api("/v1/customers/anyone/triggers", { headers: { authorization: bearer(key) } })).status).toBe(401);
    }
  });
});
