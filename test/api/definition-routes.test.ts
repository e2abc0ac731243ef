/**
 * The contract every versioned definition shares (api/definition-routes.ts), run against all
 * seven resources: create, read with its ETag, a stale If-Match refused with the current version,
 * the same definition again changing nothing, listed, deleted, then a 404 problem for both.
 */
import { describe, expect, it } from "vitest";
import { admin, env, uid } from "../helpers";
import { hookUrl } from "../trigger-helpers";

/** `invalid`: a field of the definition set to something it may not be. `keepsDeleted`: a deleted one is still shown, with `deletedAt`. */
const RESOURCES: { path: string; listKey: string; id: () => string; definition: () => Record<string, unknown>; invalid: [string, unknown]; keepsDeleted?: boolean }[] = [
  { path: "/v1/triggers", listKey: "triggers", id: () => uid("t"), definition: () => ({ name: "Kit", start: { event: "Kit Started" }, wait: { hours: 1 }, destination: { url: hookUrl("kit") } }), invalid: ["name", 42], keepsDeleted: true },
  { path: "/v1/segments", listKey: "segments", id: () => uid("s"), definition: () => ({ name: "Kit", enabled: false, rule: { trait: "kit", op: "eq", value: "yes" } }), invalid: ["name", 42] },
  { path: "/v1/blocks", listKey: "blocks", id: () => uid("b"), definition: () => ({ html: "<p>{{ customer.traits.firstName | default: 'there' }}</p>" }), invalid: ["html", 42] },
  { path: "/v1/computed-traits", listKey: "computedTraits", id: () => uid("ct").replaceAll("-", "_"), definition: () => ({ name: "Kit orders", kind: "counter", event: "Kit Ordered" }), invalid: ["name", 42] },
  {
    path: "/v1/sources",
    listKey: "sources",
    id: () => uid("src"),
    definition: () => ({ name: "Kit", signature: { type: "hmac-sha256", header: "X-Kit-Signature", encoding: "hex", secretNames: ["POS_WEBHOOK_SECRET"] }, mappings: [{ message: { type: "track", event: "Kit Sold", userId: { path: "user" } } }] }),
    invalid: ["name", 42],
  },
  { path: "/v1/tracking-plans", listKey: "plans", id: () => uid("tp"), definition: () => ({ sources: [uid("key")], events: {} }), invalid: ["sources", []] },
  { path: "/v1/enrichers", listKey: "enrichers", id: () => uid("e"), definition: () => ({ name: "Kit", url: `${env.TEST_ENRICHER_URL}/companies?domain={key}`, traits: { company: "name" } }), invalid: ["name", 42] },
];

const put = (path: string, body: unknown, headers: Record<string, string> = {}) => admin(path, { method: "PUT", body: JSON.stringify(body), headers });

describe.each(RESOURCES)("$path", ({ path, listKey, id: newId, definition, invalid, keepsDeleted }) => {
  it("creates, reads with an ETag, refuses a stale If-Match, lists and deletes", async () => {
    const id = newId();
    const item = `${path}/${id}`;
    const body = definition();
    const created = await put(item, body);
    expect(created.status, await created.clone().text()).toBe(201);
    expect(created.headers.get("etag")).toBe('"1"');
    expect(await created.json()).toMatchObject({ id, version: 1 });

    const read = await admin(item);
    expect(read.status).toBe(200);
    expect(read.headers.get("etag")).toBe('"1"');

    const stale = await put(item, body, { "if-match": '"0"' });
    expect(stale.status).toBe(412);
    expect(stale.headers.get("content-type")).toContain("application/problem+json");
    expect(await stale.json()).toMatchObject({ currentVersion: 1 });

    const again = await put(item, body, { "if-match": '"1"' });
    expect(again.status).toBe(200);
    expect(again.headers.get("etag")).toBe('"1"');

    const list = (await (await admin(path)).json()) as Record<string, { id: string }[]>;
    expect(list[listKey]!.map((r) => r.id)).toContain(id);

    expect((await admin(item, { method: "DELETE" })).status).toBe(204);
    const gone = await admin(item);
    if (keepsDeleted) {
      expect(gone.status).toBe(200);
      expect(((await gone.json()) as { deletedAt: string | null }).deletedAt).not.toBeNull();
    } else {
      expect(gone.status).toBe(404);
      expect(((await gone.json()) as { requestId?: string }).requestId).toBeTruthy();
    }
    expect((await admin(item, { method: "DELETE" })).status).toBe(404);
  });

  it("names the field of an invalid definition", async () => {
    const [field, value] = invalid;
    const res = await put(`${path}/${newId()}`, { ...definition(), [field]: value });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field)).toContain(field);
  });
});

describe("rollbacks racing", () => {
  it("answers each of several concurrent rollbacks with the saved version or a 409 to retry, never a 500", async () => {
    const item = `/v1/triggers/${uid("t")}`;
    const base = { name: "Race", start: { event: "Race Started" }, wait: { hours: 1 }, destination: { url: hookUrl("race") } };
    expect((await put(item, base)).status).toBe(201);
    expect((await put(item, { ...base, name: "Race 2" })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 6 }, () => admin(`${item}/rollback`, { method: "POST", body: JSON.stringify({ version: 1 }) })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 409), statuses.join(",")).toBe(true);
    expect(statuses).toContain(200);
  });
});
