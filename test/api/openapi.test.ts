import { describe, expect, it } from "vitest";
import { api, bearer, getCustomer, ingest, KEYS, profileWhen, uid } from "../helpers";

describe("OpenAPI document and docs page", () => {
  it("serves GET /customer/{id} as GET /v1/customers/{id}: same key, body, ETag and errors", async () => {
    const userId = uid("card");
    await ingest("/v1/identify", { userId, traits: { plan: "pro" } });
    await profileWhen(userId, () => true);
    const [a, b] = [await getCustomer(userId), await api(`/customer/${userId}`, { headers: { authorization: bearer(KEYS.read) } })];
    expect(b.status).toBe(200);
    const [bodyA, bodyB] = [(await a.json()) as any, (await b.json()) as any];
    expect(bodyB).toEqual(bodyA);
    expect(b.headers.get("etag")).toBe(a.headers.get("etag"));
    expect((await api(`/customer/${userId}`, { headers: { authorization: bearer(KEYS.read), "if-none-match": b.headers.get("etag")! } })).status).toBe(304);
    expect((await api(`/customer/${userId}`)).status).toBe(401);
    expect((await api(`/customer/${userId}`, { headers: { authorization: bearer(KEYS.write) } })).status).toBe(401);
    expect((await api(`/customer/${uid("nobody")}`, { headers: { authorization: bearer(KEYS.read) } })).status).toBe(404);
  });

  it("describes every public route with schemas from the validators", async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch", "/v1/customers/{id}", "/v1/customers/{id}/events", "/v1/admin/keys", "/v1/triggers", "/v1/triggers/{id}", "/v1/triggers/{id}/versions", "/v1/triggers/{id}/rollback", "/v1/deliveries", "/v1/deliveries/{id}/replay", "/v1/customers/{id}/triggers", "/v1/catalog/products", "/v1/blocks/{id}", "/v1/blocks/{id}/publish", "/v1/segments/{id}", "/v1/segments/{id}/members", "/v1/segments/dry-run", "/v1/content/{block}.{format}", "/v1/r/{block}/{slot}"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const track = doc.paths["/v1/track"].post.requestBody.content["application/json"].schema;
    expect(track.required).toContain("event");
    expect(doc.components.schemas.CustomerProfile.properties.traits).toBeDefined();
    expect(doc.components.schemas.CustomerProfile.properties.session).toBeDefined();
    expect(doc.paths["/v1/blocks/{id}"].put.requestBody.content["application/json"].schema.properties.html).toBeDefined();
    expect(doc.paths["/v1/triggers/{id}"].put.requestBody.content["application/json"].schema.properties.quietHours).toBeDefined();
  });

  it("serves a docs page", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/openapi.json");
  });

  it("answers unknown routes with problem+json and a request id", async () => {
    const res = await api("/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as any;
    expect(body.requestId).toBe(res.headers.get("x-request-id"));
  });
});
