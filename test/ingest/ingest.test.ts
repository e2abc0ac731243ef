import { describe, expect, it } from "vitest";
import { api, basic, ingest, KEYS, profileWhen, uid, admin, eventually } from "../helpers";

describe("ingest: happy path", () => {
  it("accepts a track call with HTTP Basic auth and the event reaches the profile", async () => {
    const userId = uid();
    const res = await ingest("/v1/track", { userId, event: "Product Viewed", properties: { sku: "A1" }, messageId: `m-${userId}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: 1, quarantined: 0 });
    const profile = await profileWhen(userId, (p) => p.eventCount === 1);
    expect(profile.counters.events["Product Viewed"]).toBe(1);
    expect(profile.userId).toBe(userId);
  });

  it("accepts writeKey in the body instead of a header", async () => {
    const userId = uid();
    const res = await api("/v1/identify", { method: "POST", body: JSON.stringify({ writeKey: KEYS.write, userId, traits: { plan: "pro" } }) });
    expect(res.status).toBe(200);
    const profile = await profileWhen(userId, (p) => p.traits.plan === "pro");
    expect(profile.traits).toEqual({ plan: "pro" });
  });

  it("accepts the one-letter paths analytics.js uses, with a text/plain body", async () => {
    const userId = uid();
    const res = await api("/v1/p", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ writeKey: KEYS.write, userId, name: "Home" }) });
    expect(res.status).toBe(200);
    await profileWhen(userId, (p) => p.counters.types.page === 1);
  });

  it("decompresses gzip bodies", async () => {
    const userId = uid();
    const body = new Blob([JSON.stringify({ batch: [{ type: "identify", userId, traits: { name: "Gz" } }] })]).stream().pipeThrough(new CompressionStream("gzip"));
    const res = await api("/v1/batch", { method: "POST", headers: { authorization: basic(KEYS.write), "content-encoding": "gzip" }, body: await new Response(body).arrayBuffer() });
    expect(res.status).toBe(200);
    await profileWhen(userId, (p) => p.traits.name === "Gz");
  });

  it("merges batch-level context into each item and corrects client clock skew", async () => {
    const userId = uid();
    // The client clock is 1 hour ahead: it says the call happened at 10:00:00 and was sent at
    // 10:00:05 (its time). We received it now, so the event happened 5 s before now.
    const res = await ingest("/v1/batch", {
      context: { library: { name: "analytics-node" } },
      sentAt: "2030-01-01T10:00:05.000Z",
      batch: [{ type: "track", userId, event: "Skewed", originalTimestamp: "2030-01-01T10:00:00.000Z", context: { ip: "1.2.3.4" }, messageId: `skew-${userId}` }],
    });
    expect(res.status).toBe(200);
    const page = await eventually(async () => {
      const r = await api(`/v1/customers/${userId}/events`, { headers: { authorization: `Bearer ${KEYS.read}` } });
      const b = (await r.json()) as { events?: any[] };
      return b.events?.length ? b : null;
    }, "events");
    const event = page.events![0];
    expect(event.context).toEqual({ library: { name: "analytics-node" }, ip: "1.2.3.4" });
    const delta = Date.parse(event.receivedAt) - Date.parse(event.timestamp);
    expect(delta).toBe(5000);
    expect(event.originalTimestamp).toBe("2030-01-01T10:00:00.000Z");
  });

  it("gives a message without messageId one, and the same one when an SDK retries the payload", async () => {
    const userId = uid();
    const message = { userId, event: "Retried", timestamp: "2026-01-01T00:00:00.000Z" };
    await ingest("/v1/track", message);
    await ingest("/v1/track", message);
    await ingest("/v1/track", { ...message, event: "Other" });
    const profile = await profileWhen(userId, (p) => p.eventCount >= 2);
    await new Promise((r) => setTimeout(r, 300));
    const again = await profileWhen(userId, () => true);
    expect(again.eventCount).toBe(2);
    expect(profile.counters.events.Retried).toBe(1);
  });

  it("answers CORS preflights for browsers", async () => {
    const res = await api("/v1/t", { method: "OPTIONS", headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });
});

describe("ingest: errors", () => {
  it("lets browsers read errors: CORS headers on a refused message too", async () => {
    const res = await ingest("/v1/t", { event: "No identity" }, { origin: "https://shop.example" });
    expect(res.status).toBe(400);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("refuses an unknown Content-Encoding with 415", async () => {
    const res = await ingest("/v1/track", { userId: "u", event: "e" }, { "content-encoding": "br" });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("refuses a message without identity with problem+json naming the field, and quarantines it", async () => {
    const res = await ingest("/v1/track", { event: "Nobody", properties: { marker: "no-identity" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as any;
    expect(problem.errors).toEqual([{ field: "userId", message: "is required, or else anonymousId" }]);
    expect(problem.detail).toContain("userId is required, or else anonymousId");
    expect(problem.requestId).toBe(res.headers.get("x-request-id"));
    const item = await eventually(async () => {
      const list = (await (await admin("/v1/admin/quarantine")).json()) as { items: any[] };
      return list.items.find((i) => i.raw.includes("no-identity"));
    }, "quarantined message");
    expect(item.reason).toBe("validation_failed");
    expect(item.errors[0].field).toBe("userId");
    expect(JSON.parse(item.raw).properties.marker).toBe("no-identity");
  });

  it("names the missing event field of a track call", async () => {
    const res = await ingest("/v1/track", { userId: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0]).toEqual({ field: "event", message: "is required" });
  });

  it("says what each field expected, in words, without repeating the field", async () => {
    const alias = (await (await ingest("/v1/alias", { userId: "x" })).json()) as any;
    expect(alias.errors).toEqual([{ field: "previousId", message: "is required" }]);
    const typed = (await (await ingest("/v1/track", { userId: "x", event: 42 })).json()) as any;
    expect(typed.errors).toEqual([{ field: "event", message: "must be a string, not a number" }]);
    const batch = (await (await ingest("/v1/batch", { batch: [{ type: "track", userId: "x", event: "E" }, { type: "teleport", userId: "x" }] })).json()) as any;
    expect(batch.rejected[0].errors[0]).toEqual({ field: "batch[1].type", message: expect.stringContaining("must be one of") });
  });

  it("passes the valid messages of a batch and reports each invalid one by index", async () => {
    const userId = uid();
    const res = await ingest("/v1/batch", {
      batch: [
        { type: "track", userId, event: "Good" },
        { type: "track", userId, properties: { marker: "bad-batch-item" } },
        { type: "teleport", userId },
        { type: "identify", userId, traits: { ok: true } },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r: any) => [r.index, r.errors[0].field])).toEqual([
      [1, "batch[1].event"],
      [2, "batch[2].type"],
    ]);
    await profileWhen(userId, (p) => p.eventCount === 2 && p.traits.ok === true);
    await eventually(async () => {
      const list = (await (await admin("/v1/admin/quarantine?limit=100")).json()) as { items: any[] };
      return list.items.some((i) => i.raw.includes("bad-batch-item"));
    }, "quarantined batch item");
  });

  it("refuses context, properties, traits and integrations that are not objects, naming each field", async () => {
    const userId = uid();
    const res = await ingest("/v1/batch", {
      batch: [
        { type: "track", userId, event: "A", properties: "not-an-object-marker" },
        { type: "identify", userId, traits: ["a"] },
        { type: "page", userId, context: null },
        { type: "track", userId, event: "B", integrations: 3 },
        { type: "track", userId, event: "Fine", properties: { a: 1 }, context: {}, integrations: {} },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.accepted).toBe(1);
    expect(body.rejected.map((r: any) => [r.index, r.errors[0].field, r.errors[0].message])).toEqual([
      [0, "batch[0].properties", "must be an object"],
      [1, "batch[1].traits", "must be an object"],
      [2, "batch[2].context", "must be an object"],
      [3, "batch[3].integrations", "must be an object"],
    ]);
    await eventually(async () => {
      const list = (await (await admin("/v1/admin/quarantine?limit=100")).json()) as { items: any[] };
      return list.items.some((i) => i.raw.includes("not-an-object-marker"));
    }, "quarantined item");
  });

  it("refuses a batch of more than 2,500 messages, saying which limit", async () => {
    const batch = Array.from({ length: 2501 }, () => ({ type: "page", anonymousId: "a" }));
    const res = await ingest("/v1/batch", { batch });
    expect(res.status).toBe(413);
    const problem = (await res.json()) as any;
    expect(problem.limit).toBe("messages_per_batch");
    expect(problem.detail).toContain("2500");
  });

  it("refuses a batch body over 500 KB and a single message over 32 KB", async () => {
    const big = "x".repeat(510 * 1024);
    const batchRes = await ingest("/v1/batch", { batch: [{ type: "track", userId: "u", event: "e", properties: { big } }] });
    expect(batchRes.status).toBe(413);
    expect(((await batchRes.json()) as any).limit).toBe("batch");
    const single = await ingest("/v1/track", { userId: "u", event: "e", properties: { big: "x".repeat(33 * 1024) } });
    expect(single.status).toBe(413);
    expect(((await single.json()) as any).limit).toBe("message");
  });

  it("rejects an item over 32 KB inside a batch by index", async () => {
    const res = await ingest("/v1/batch", { batch: [{ type: "track", userId: "u", event: "e", properties: { big: "x".repeat(33 * 1024) } }, { type: "page", userId: uid() }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.rejected[0].index).toBe(0);
    expect(body.rejected[0].errors[0].message).toContain("32 KB");
  });

  it("keeps a body that is not JSON in quarantine when the key is in the header", async () => {
    const res = await ingest("/v1/track", undefined as unknown);
    const raw = await api("/v1/track", { method: "POST", headers: { authorization: basic(KEYS.write) }, body: "{not json marker-broken" });
    expect(res.status).toBe(400);
    expect(raw.status).toBe(400);
    await eventually(async () => {
      const list = (await (await admin("/v1/admin/quarantine?limit=100")).json()) as { items: any[] };
      return list.items.find((i) => i.reason === "invalid_json" && i.raw.includes("marker-broken"));
    }, "quarantined non-JSON body");
  });
});

describe("ingest: security", () => {
  it("refuses a missing, unknown or non-write key with 401 and queues nothing", async () => {
    const userId = uid();
    for (const authorization of [undefined, basic("wk_nope"), basic(KEYS.read), basic(KEYS.admin)]) {
      const res = await api("/v1/track", { method: "POST", headers: authorization ? { authorization } : {}, body: JSON.stringify({ userId, event: "Sneaky" }) });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    await new Promise((r) => setTimeout(r, 300));
    const res = await api(`/v1/customers/${userId}`, { headers: { authorization: `Bearer ${KEYS.read}` } });
    expect(res.status).toBe(404);
  });
});
