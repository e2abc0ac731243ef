import { describe, expect, it } from "vitest";
import { hmacSha256 } from "../../src/kernel/crypto";
import { admin, api, eventually, profileWhen, uid } from "../helpers";

const sign = async (secret: string, body: string) => `sha256=${await hmacSha256(secret, body)}`;

const POS = {
  name: "Store POS",
  signature: { type: "hmac-sha256", header: "X-Pos-Signature", encoding: "hex", prefix: "sha256=", secretNames: ["POS_WEBHOOK_SECRET"] },
  items: "data.events",
  id: { path: "event_id" },
  mappings: [
    {
      when: [{ property: "kind", op: "eq", value: "sale" }],
      message: {
        type: "track",
        event: "Order Completed",
        email: { path: "customer.email" },
        externalId: { type: "pos_customer_id", value: { path: "customer.number", as: "string" } },
        timestamp: { path: "at" },
        properties: { order_id: { path: "receipt" }, revenue: { path: "total", as: "number" }, currency: "EUR", channel: "store" },
      },
    },
    {
      when: [{ property: "kind", op: "eq", value: "member" }],
      message: { type: "identify", externalId: { type: "pos_customer_id", value: { path: "number", as: "string" } }, email: { path: "email" }, sourceUpdatedAt: { path: "updated" }, traits: { firstName: { path: "first" }, loyaltyTier: { path: "tier" } } },
    },
  ],
};

async function post(sourceId: string, payload: unknown, secret = "pos_secret_new") {
  const body = JSON.stringify(payload);
  return api(`/v1/sources/${sourceId}/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-pos-signature": await sign(secret, body) }, body });
}

describe("generic inbound webhooks", () => {
  it("verify the signature, map items by the declared rules, quarantine what no rule maps, and count retries once", async () => {
    const id = uid("pos");
    expect((await admin(`/v1/sources/${id}`, { method: "PUT", body: JSON.stringify(POS) })).status).toBe(201);
    const email = `${uid("shopper")}@example.com`;
    const number = Math.floor(Math.random() * 1e9);
    const payload = {
      data: {
        events: [
          { event_id: uid("e"), kind: "member", number, email, first: "Grace", tier: "gold", updated: 1_790_000_000 },
          { event_id: uid("e"), kind: "sale", receipt: "R-1", total: "42.50", at: new Date().toISOString(), customer: { number, email } },
          { event_id: uid("e"), kind: "refund", receipt: "R-0" },
        ],
      },
    };
    const bad = await post(id, payload, "not-the-secret");
    expect(bad.status).toBe(401);
    // Signed with the previous secret, during a rotation: accepted.
    const res = await post(id, payload, "pos_secret_old");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, accepted: 2, quarantined: 1 });
    // The system retries the whole delivery: nothing counts twice.
    await post(id, payload);
    const profile = await profileWhen(`email:${email}`, (p) => p.computed?.orderCount === 1 && p.traits.loyaltyTier === "gold");
    expect(profile.identities.externalIds).toEqual([{ type: "pos_customer_id", id: String(number) }]);
    expect(profile.traits).toMatchObject({ firstName: "Grace", loyaltyTier: "gold", email });
    expect(profile.computed.totalRevenue).toEqual({ EUR: 42.5 });
    await new Promise((r) => setTimeout(r, 500));
    expect((await profileWhen(`email:${email}`, () => true)).eventCount).toBe(2);
    await eventually(async () => JSON.stringify(await (await admin("/v1/admin/quarantine?limit=200")).json()).includes("no mapping"), "the refund quarantined");
  });

  it("refuse a definition whose mapping cannot name a customer or a track without an event", async () => {
    const res = await admin(`/v1/sources/${uid("bad")}`, { method: "PUT", body: JSON.stringify({ ...POS, mappings: [{ message: { type: "track", properties: {} } }] }) });
    expect(res.status).toBe(400);
    const fields = ((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["mappings[0].message.event", "mappings[0].message.userId"]));
    expect((await api(`/v1/sources/${uid("none")}/webhook`, { method: "POST", body: "{}" })).status).toBe(404);
  });
});

describe("a source naming a secret that is not set", () => {
  it("is saved with a warning, and its webhook says the secret is not configured (503), not that the sender is wrong", async () => {
    const id = uid("nosecret");
    const definition = { ...POS, signature: { ...POS.signature, secretNames: ["NOT_SET_ANYWHERE_SECRET"] } };
    const saved = await admin(`/v1/sources/${id}`, { method: "PUT", body: JSON.stringify(definition) });
    expect(saved.status).toBe(201);
    const body = (await saved.json()) as { warnings?: string[] };
    expect(body.warnings).toEqual([expect.stringContaining("secret NOT_SET_ANYWHERE_SECRET is not configured")]);
    expect(body.warnings![0]).toContain(".dev.vars");
    const res = await post(id, { data: { events: [] } });
    expect(res.status).toBe(503);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("not_configured");
    expect(problem.detail).toContain("secret not configured (NOT_SET_ANYWHERE_SECRET)");
    // A source whose secret is set saves without a warning.
    const fine = (await (await admin(`/v1/sources/${uid("pos")}`, { method: "PUT", body: JSON.stringify(POS) })).json()) as { warnings?: string[] };
    expect(fine.warnings).toBeUndefined();
  });
});
