import { verifyContentToken } from "../../src/content/links";
import { readConfig } from "../../src/model/config";
import { createMessageBatch, getQueueResult } from "cloudflare:test";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { DeliveryMessage } from "../../src/triggers/delivery-message";
import { signatureHeader, verifySignature } from "../../src/delivery/signature";
import worker from "../../src/index";
import { toDocument } from "../../src/profiles/document";
import { emptyProfile } from "../../src/profiles/apply";
import { admin, env, eventually, uid } from "../helpers";
import { failNext, hookUrl, received } from "../trigger-helpers";

function message(hook: string, format: DeliveryMessage["destination"]["format"] = "rapport"): DeliveryMessage {
  const deliveryId = `dlv_${crypto.randomUUID().replaceAll("-", "")}`;
  const customer = { ...toDocument("cus_test", emptyProfile(), [{ kind: "user_id", value: "u-1", key: "user_id:u-1" }, { kind: "email", value: "ada@example.com", key: "email:ada@example.com" }], 3, Date.now()), session: null };
  return {
    v: 1,
    deliveryId,
    customerId: "cus_test",
    destination: { url: hookUrl(hook), format },
    payload: { id: deliveryId, type: "trigger.fired", trigger: { id: "t-test", version: 1, name: "Test" }, customer, items: [{ productId: "sku-1" }], startedBy: { event: "Product Viewed", messageId: "m1", timestamp: new Date().toISOString() }, dueAt: new Date().toISOString(), firedAt: new Date().toISOString() },
  };
}

const deliveryOf = async (id: string) => (await (await admin(`/v1/deliveries/${id}`)).json()) as any;

describe("webhook signatures", () => {
  it("verify with the secret, and refuse a changed body, another secret, an old timestamp or garbage", async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = await signatureHeader('{"a":1}', ["whsec_a", "whsec_b"], now);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(await verifySignature(header, '{"a":1}', "whsec_b", now)).toEqual({ ok: true, timestamp: now });
    expect(await verifySignature(header, '{"a":2}', "whsec_a", now)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySignature(header, '{"a":1}', "whsec_c", now)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySignature(header, '{"a":1}', "whsec_a", now + 301)).toEqual({ ok: false, reason: "too_old" });
    expect(await verifySignature("v1=abc", '{"a":1}', "whsec_a", now)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("the delivery consumer, against a real HTTP receiver", () => {
  it("retries a 5xx with backoff until the destination takes it, then logs it delivered", async () => {
    const hook = uid("hook");
    await failNext(hook, 2, 503);
    const m = message(hook);
    await env.DELIVERIES.send(m);
    await eventually(async () => (await deliveryOf(m.deliveryId)).status === "delivered", "delivered after retries");
    const attempts = await received(hook);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(attempts.map((a) => a.headers["rapport-delivery-attempt"])).toEqual(["1", "2", "3"]);
    // Every attempt carries the same idempotency key.
    expect(new Set(attempts.map((a) => a.headers["idempotency-key"]))).toEqual(new Set([m.deliveryId]));
    expect(await deliveryOf(m.deliveryId)).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
  });

  it("logs an ESP's expected 5xx, retried, as a warning, never as an error", async () => {
    const hook = uid("hook");
    await failNext(hook, 1, 503);
    const m = message(hook);
    const errors = vi.spyOn(console, "error");
    const warnings = vi.spyOn(console, "warn");
    try {
      const batch = createMessageBatch("rapport-deliveries", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: m }]);
      await worker.queue(batch, env);
      expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toHaveLength(1);
      const lines = (spy: typeof errors) => spy.mock.calls.map((c) => JSON.parse(String(c[0])) as { level: string; msg: string; deliveryId?: string }).filter((l) => l.deliveryId === m.deliveryId);
      expect(lines(warnings)).toEqual([expect.objectContaining({ level: "warn", msg: "delivery.attempt" })]);
      expect(lines(errors)).toEqual([]);
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it("does not post a delivered message again when the queue redelivers it", async () => {
    const hook = uid("hook");
    const m = message(hook);
    const first = createMessageBatch("rapport-deliveries", [{ id: "a", timestamp: new Date(), attempts: 1, body: m }]);
    const ctx = createExecutionContext();
    await worker.queue(first, env);
    expect((await getQueueResult(first, ctx)).explicitAcks).toEqual(["a"]);
    const again = createMessageBatch("rapport-deliveries", [{ id: "b", timestamp: new Date(), attempts: 2, body: m }]);
    await worker.queue(again, env);
    expect((await getQueueResult(again, ctx)).explicitAcks).toEqual(["b"]);
    expect(await received(hook)).toHaveLength(1);
  });

  it("rejects a 4xx at once (no retry) and lets an admin replay it", async () => {
    const hook = uid("hook");
    await failNext(hook, 1, 422);
    const m = message(hook);
    await env.DELIVERIES.send(m);
    await eventually(async () => (await deliveryOf(m.deliveryId)).status === "rejected", "rejected");
    expect(await deliveryOf(m.deliveryId)).toMatchObject({ attempts: 1, lastStatusCode: 422, lastError: "HTTP 422 (not retried)" });
    const replay = await admin(`/v1/deliveries/${m.deliveryId}/replay`, { method: "POST" });
    expect(replay.status).toBe(202);
    await eventually(async () => (await deliveryOf(m.deliveryId)).status === "delivered", "delivered on replay");
    expect((await received(hook)).map((a) => a.status)).toEqual([422, 200]);
    // A delivered message is not replayed.
    const twice = await admin(`/v1/deliveries/${m.deliveryId}/replay`, { method: "POST" });
    expect(twice.status).toBe(409);
  });

  it("sends a message that keeps failing to the dead-letter queue, marked dead with its last error", async () => {
    const hook = uid("hook");
    await failNext(hook, 100, 500);
    const m = message(hook);
    await env.DELIVERIES.send(m);
    const dead = await eventually(async () => {
      const d = await deliveryOf(m.deliveryId);
      return d.status === "dead" && d;
    }, "dead", 20_000);
    // maxRetries is 3 in the tests: four attempts.
    expect(dead).toMatchObject({ attempts: 4, lastStatusCode: 500, lastError: "HTTP 500" });
    const listed = (await (await admin(`/v1/deliveries?status=dead&triggerId=t-test`)).json()) as any;
    expect(listed.deliveries.map((d: any) => d.id)).toContain(m.deliveryId);
  });

  it("keeps a message it cannot read as a dead letter, and replays it onto the queue it came from", async () => {
    const marker = uid("garbage");
    await env.DELIVERIES.send({ not: "a delivery", marker });
    const find = async () => {
      const body = (await (await admin("/v1/admin/dead-letters?limit=500")).json()) as any;
      return body.items.filter((d: any) => d.body?.marker === marker);
    };
    const [letter] = await eventually(async () => ((await find()).length > 0 ? find() : null), "dead letter");
    expect(letter).toMatchObject({ queue: "rapport-deliveries", lastError: expect.stringContaining("undecodable") });
    expect((await admin(`/v1/admin/dead-letters/${letter.id}/replay`, { method: "POST" })).status).toBe(200);
    // Back on the delivery queue (not the event queue), whose consumer keeps it aside again.
    const letters = await eventually(async () => {
      const found = await find();
      return found.length === 2 && found;
    }, "the replayed letter");
    expect(letters.map((d: any) => d.queue)).toEqual(["rapport-deliveries", "rapport-deliveries"]);
  });

  it("shapes the body for Klaviyo's event API", async () => {
    const hook = uid("hook");
    const m = message(hook, "klaviyo");
    await env.DELIVERIES.send(m);
    const [got] = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "klaviyo webhook");
    expect(got!.headers["content-type"]).toBe("application/vnd.api+json");
    expect(got!.headers.revision).toBeTruthy();
    expect(JSON.parse(got!.body)).toMatchObject({
      data: { type: "event", attributes: { unique_id: m.deliveryId, metric: { data: { attributes: { name: "rapport.t-test" } } }, profile: { data: { attributes: { email: "ada@example.com", external_id: "u-1" } } } } },
    });
  });

  it("carries the customer's content token, so the message can embed content blocks", async () => {
    const hook = uid("hook");
    await env.DELIVERIES.send(message(hook, "braze"));
    const [got] = await eventually(async () => ((await received(hook)).length > 0 ? received(hook) : null), "braze webhook");
    const token = JSON.parse(got!.body).events[0].properties.content_token as string;
    expect(await verifyContentToken(readConfig(env).contentSecrets, token)).toBe("cus_test");
  });
});
