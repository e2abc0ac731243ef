// Tracking plans end to end: managed through the admin API, applied at ingest to the source they
// name, violations recorded by the pipeline (once per event, however often it is delivered),
// listed and counted per event name.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { saveDefinition } from "../../src/db/current-definitions";
import { errorText } from "../../src/kernel/log";
import { admin, api, basic, bearer, eventually, KEYS, profileWhen, uid } from "../helpers";

const PRODUCT_VIEWED = {
  type: "object",
  required: ["product_id"],
  properties: { product_id: { type: "string" }, price: { type: "number", minimum: 0 } },
};

/** A write key of its own, so a plan for it touches no other test. */
async function newWriteKey(): Promise<{ id: string; secret: string }> {
  const res = await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind: "write", name: uid("tp") }) });
  expect(res.status).toBe(201);
  return res.json();
}

const putPlan = (id: string, plan: unknown, headers: Record<string, string> = {}) => admin(`/v1/tracking-plans/${id}`, { method: "PUT", body: JSON.stringify(plan), headers });

const send = (key: string, batch: unknown[]) => api("/v1/batch", { method: "POST", headers: { authorization: basic(key), "content-type": "application/json" }, body: JSON.stringify({ batch }) });

async function eventsOf(userId: string): Promise<Record<string, any>[]> {
  const res = await api(`/v1/customers/${userId}/events`, { headers: { authorization: bearer(KEYS.read) } });
  return res.status === 200 ? (await res.json<{ events: Record<string, any>[] }>()).events : [];
}

async function violationsOf(source: string): Promise<Record<string, any>[]> {
  return (await (await admin(`/v1/tracking-plans/violations?source=${encodeURIComponent(source)}`)).json<{ violations: Record<string, any>[] }>()).violations;
}

describe("Tracking plans at ingest", () => {
  it("flag violations, quarantine unplanned events, record each once and count them per event", async () => {
    const key = await newWriteKey();
    const planId = uid("shop");
    const saved = await putPlan(planId, { sources: [key.id], violations: "flag", unplannedEvents: "quarantine", events: { "Product Viewed": PRODUCT_VIEWED, "Order Completed": true } });
    expect(saved.status).toBe(201);
    expect(saved.headers.get("etag")).toBe('"1"');

    const userId = uid("shopper");
    const batch = [
      { type: "track", userId, event: "Product Viewed", messageId: `${userId}-ok`, properties: { product_id: "p1", price: 10 } },
      { type: "track", userId, event: "Product Viewed", messageId: `${userId}-bad`, properties: { price: "ten" } },
      { type: "track", userId, event: "Mystery Event", messageId: `${userId}-unplanned`, properties: { x: 1 } },
    ];
    const res = await send(key.secret, batch);
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, any>>();
    // The SDK's answer is Segment's; the plan's findings come along for developers. The event the
    // plan quarantined is counted apart from those accepted.
    expect(body).toMatchObject({ success: true, accepted: 2, quarantined: 1, trackingPlan: { plan: planId } });
    expect(body.trackingPlan.violations.map((v: { messageId: string; action: string }) => `${v.messageId} ${v.action}`)).toEqual([`${userId}-bad flagged`, `${userId}-unplanned quarantined`]);

    // Delivered again (an SDK retry): nothing is recorded or counted twice.
    expect((await send(key.secret, batch)).status).toBe(200);

    const events = await eventually(async () => {
      const e = await eventsOf(userId);
      return e.length === 2 ? e : null;
    }, "the two planned events in the profile");
    const bad = events.find((e) => e.messageId === `${userId}-bad`)!;
    expect(bad.properties).toEqual({ price: "ten" });
    expect(bad.context.trackingPlan).toMatchObject({ id: planId, version: 1 });
    expect(bad.context.trackingPlan.violations.map((v: { path: string; rule: string }) => `${v.path} ${v.rule}`).sort()).toEqual(["properties.price type", "properties.product_id required"]);
    expect(events.find((e) => e.messageId === `${userId}-ok`)!.context?.trackingPlan).toBeUndefined();
    expect(events.some((e) => e.event === "Mystery Event")).toBe(false);

    const quarantined = await eventually(async () => {
      const q = await (await admin("/v1/admin/quarantine?limit=200")).json<{ items: Record<string, any>[] }>();
      return q.items.find((m) => m.raw.includes(`${userId}-unplanned`));
    }, "the unplanned event in the quarantine");
    expect(quarantined).toMatchObject({ reason: "tracking_plan", endpoint: `tracking-plan/${planId}`, sourceId: key.id, errors: [{ field: "event" }] });

    const recorded = await eventually(async () => {
      const v = await violationsOf(key.id);
      return v.length >= 2 ? v : null;
    }, "the violations recorded");
    await new Promise((r) => setTimeout(r, 300));
    expect((await violationsOf(key.id)).length).toBe(2);
    // The retried batch quarantined the unplanned event again: kept once.
    const quarantine = await (await admin("/v1/admin/quarantine?limit=200")).json<{ items: Record<string, any>[] }>();
    expect(quarantine.items.filter((m) => m.raw.includes(`${userId}-unplanned`))).toHaveLength(1);
    expect(recorded.map((v) => `${v.eventName} ${v.action} ${v.unplanned}`).sort()).toEqual(["Mystery Event quarantined true", "Product Viewed flagged false"]);

    const counts = await (await admin(`/v1/tracking-plans/violations/counts?source=${key.id}`)).json<{ counts: Record<string, any>[] }>();
    expect(counts.counts).toEqual([
      { sourceId: key.id, eventName: "Mystery Event", events: 1, byAction: { quarantined: 1 }, lastAt: expect.any(String), rules: [{ path: "event", rule: "unplanned", count: 1 }] },
      { sourceId: key.id, eventName: "Product Viewed", events: 1, byAction: { flagged: 1 }, lastAt: expect.any(String), rules: expect.arrayContaining([{ path: "properties.price", rule: "type", count: 1 }, { path: "properties.product_id", rule: "required", count: 1 }]) },
    ]);
    const byEvent = await (await admin(`/v1/tracking-plans/violations?source=${key.id}&event=Mystery%20Event`)).json<{ violations: unknown[] }>();
    expect(byEvent.violations).toHaveLength(1);
  });

  it("drop removes the traits at fault and keeps the rest of the identify", async () => {
    const key = await newWriteKey();
    expect((await putPlan(uid("traits"), { sources: [key.id], violations: "drop", identify: { type: "object", properties: { age: { type: "integer", minimum: 0 } } } })).status).toBe(201);
    const userId = uid("ada");
    expect((await send(key.secret, [{ type: "identify", userId, traits: { firstName: "Ada", age: -3 } }])).status).toBe(200);
    const profile = await profileWhen(userId, (p) => p.traits?.firstName === "Ada");
    expect(profile.traits.age).toBeUndefined();
    const [identify] = await eventsOf(userId);
    expect(identify!.context.trackingPlan).toMatchObject({ dropped: ["traits.age"], violations: [{ path: "traits.age", rule: "minimum" }] });
  });

  it("allow lets the event through unchanged and still records the violation", async () => {
    const key = await newWriteKey();
    expect((await putPlan(uid("lenient"), { sources: [key.id], violations: "allow", events: { "Product Viewed": PRODUCT_VIEWED } })).status).toBe(201);
    const userId = uid("bob");
    await send(key.secret, [{ type: "track", userId, event: "Product Viewed", properties: { price: -1, product_id: "p" } }]);
    const [event] = await eventually(async () => {
      const e = await eventsOf(userId);
      return e.length === 1 ? e : null;
    }, "the event");
    expect(event!.properties).toEqual({ price: -1, product_id: "p" });
    expect(event!.context?.trackingPlan).toBeUndefined();
    const [v] = await eventually(async () => {
      const list = await violationsOf(key.id);
      return list.length === 1 ? list : null;
    }, "the violation recorded");
    expect(v).toMatchObject({ action: "allowed", violations: [{ path: "properties.price", rule: "minimum" }] });
  });

  it("lists violations page by page, each once", async () => {
    const key = await newWriteKey();
    expect((await putPlan(uid("paged"), { sources: [key.id], unplannedEvents: "allow" })).status).toBe(201);
    const userId = uid("pager");
    // Message ids may hold the cursor's separator.
    const ids = ["x|9", "x|5", "x|1"].map((m) => `${userId}-${m}`);
    const t = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();
    await send(key.secret, ids.map((messageId, i) => ({ type: "track", userId, event: `E${i}`, messageId, timestamp: t(i) })));
    await eventually(async () => (await violationsOf(key.id)).length === 3, "three violations recorded");
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await (await admin(`/v1/tracking-plans/violations?source=${key.id}&limit=2${next ? `&cursor=${encodeURIComponent(next)}` : ""}`)).json<{ violations: { messageId: string }[]; next?: string }>();
      expect(page.violations.length).toBeLessThanOrEqual(2);
      seen.push(...page.violations.map((v) => v.messageId));
      next = page.next;
    } while (next);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("a source without a plan, or whose plan was deleted, is not checked; a * plan covers sources without their own", async () => {
    const own = await newWriteKey();
    const other = await newWriteKey();
    const planId = uid("strict");
    expect((await putPlan(planId, { sources: [own.id], unplannedEvents: "quarantine" })).status).toBe(201);
    const star = uid("everyone");
    expect((await putPlan(star, { sources: ["*"], unplannedEvents: "flag" })).status).toBe(201);
    try {
      const a = await (await send(own.secret, [{ type: "track", userId: uid("u"), event: "Anything" }])).json<Record<string, any>>();
      expect(a.trackingPlan).toMatchObject({ plan: planId, violations: [{ action: "quarantined" }] });
      const b = await (await send(other.secret, [{ type: "track", userId: uid("u"), event: "Anything" }])).json<Record<string, any>>();
      expect(b.trackingPlan).toMatchObject({ plan: star, violations: [{ action: "flagged" }] });
    } finally {
      expect((await admin(`/v1/tracking-plans/${star}`, { method: "DELETE" })).status).toBe(204);
    }
    expect((await admin(`/v1/tracking-plans/${planId}`, { method: "DELETE" })).status).toBe(204);
    const after = await (await send(own.secret, [{ type: "track", userId: uid("u"), event: "Anything" }])).json<Record<string, any>>();
    expect(after.trackingPlan).toBeUndefined();
  });

  it("applies to declared webhook sources by their source id", async () => {
    const sourceId = uid("crm");
    const created = await admin(`/v1/sources/${sourceId}`, {
      method: "PUT",
      body: JSON.stringify({ name: "CRM", signature: { type: "token", header: "X-Token", secretNames: ["POS_WEBHOOK_SECRET"] }, mappings: [{ message: { type: "track", event: { path: "kind" }, userId: { path: "user" }, properties: { amount: { path: "amount" } } } }] }),
    });
    expect(created.status).toBe(201);
    expect((await putPlan(uid("crm-plan"), { sources: [`source:${sourceId}`], violations: "quarantine", events: { Sale: { type: "object", properties: { amount: { type: "number" } } } } })).status).toBe(201);
    const post = (item: unknown) => api(`/v1/sources/${sourceId}/webhook`, { method: "POST", headers: { "x-token": "pos_secret_new", "content-type": "application/json" }, body: JSON.stringify(item) });
    const user = uid("crm-user");
    expect((await post({ kind: "Sale", user, amount: "lots" })).status).toBe(200);
    const [v] = await eventually(async () => {
      const list = await violationsOf(`source:${sourceId}`);
      return list.length === 1 ? list : null;
    }, "the source's violation");
    expect(v).toMatchObject({ eventName: "Sale", action: "quarantined", violations: [{ path: "properties.amount", rule: "type" }] });
  });
});

describe("The tracking plan API", () => {
  it("refuses schemas the validator would misread, naming the place", async () => {
    const res = await putPlan(uid("typo"), { sources: [uid("k")], events: { "Product Viewed": { type: "object", properties: { price: { type: "numbr" } } } } });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const problem = await res.json<{ errors: { field: string }[]; requestId: string }>();
    expect(problem.errors).toEqual([{ field: "events.Product Viewed.properties.price.type", message: expect.stringContaining("numbr") }]);
    expect(problem.requestId).toBeTruthy();
    const policy = await putPlan(uid("typo"), { sources: [uid("k")], violations: "ignore" });
    expect(policy.status).toBe(400);
    expect((await policy.json<{ errors: { field: string }[] }>()).errors[0]!.field).toBe("violations");
  });

  it("gives a source one plan, versions saves with If-Match, and keeps ids that are routes", async () => {
    const source = uid("key");
    const first = uid("first");
    expect((await putPlan(first, { sources: [source] })).status).toBe(201);
    const clash = await putPlan(uid("second"), { sources: [source] });
    expect(clash.status).toBe(409);
    expect((await clash.json<{ errors: { field: string }[] }>()).errors[0]!.field).toBe("sources");
    expect((await putPlan(first, { sources: [source], violations: "drop" }, { "if-match": '"1"' })).status).toBe(200);
    expect((await putPlan(first, { sources: [source], violations: "flag" }, { "if-match": '"1"' })).status).toBe(412);
    const got = await admin(`/v1/tracking-plans/${first}`);
    expect(await got.json()).toMatchObject({ id: first, version: 2, violations: "drop", unplannedEvents: "allow" });
    expect((await putPlan("violations", { sources: [uid("k")] })).status).toBe(400);
    expect((await admin(`/v1/tracking-plans/${uid("none")}`)).status).toBe(404);
  });

  it("gives a source one plan even when two plans for it are saved at the same moment", async () => {
    for (let round = 0; round < 3; round++) {
      const source = uid("key");
      const ids = [uid("racer"), uid("racer"), uid("racer")];
      const answers = await Promise.all(ids.map((id) => putPlan(id, { sources: [source] })));
      expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      const listed = (await (await admin("/v1/tracking-plans")).json<{ plans: { id: string; sources: string[] }[] }>()).plans;
      expect(listed.filter((p) => p.sources.includes(source))).toHaveLength(1);
    }
  });

  it("refuses a second plan for a source in the write itself, not only in the API's check", async () => {
    const source = uid("key");
    const first = uid("first");
    expect((await putPlan(first, { sources: [source] })).status).toBe(201);
    // Straight to the table, as a save that passed the API's check just before the first one committed.
    const second = saveDefinition(env.DB, "tracking_plans", uid("second"), JSON.stringify({ sources: [uid("other"), source] }));
    expect(errorText(await second.then(() => null, (e: unknown) => e))).toContain("rapport_source_taken");
    // Deleted, the first plan no longer holds the source, and a plan given it takes it.
    expect((await admin(`/v1/tracking-plans/${first}`, { method: "DELETE" })).status).toBe(204);
    expect((await putPlan(uid("third"), { sources: [source] })).status).toBe(201);
    // Undeleting the first (saving it again) would give the source two plans.
    const undeleted = saveDefinition(env.DB, "tracking_plans", first, JSON.stringify({ sources: [source] }));
    expect(errorText(await undeleted.then(() => null, (e: unknown) => e))).toContain("rapport_source_taken");
  });

  it("checks a message against a plan without sending it", async () => {
    const id = uid("dry");
    await putPlan(id, { sources: [uid("k")], violations: "drop", events: { "Product Viewed": PRODUCT_VIEWED } });
    const res = await admin(`/v1/tracking-plans/${id}/check`, { method: "POST", body: JSON.stringify({ type: "track", userId: "u", event: "Product Viewed", properties: { product_id: "p", price: -5 } }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ action: "dropped", violations: [{ path: "properties.price", rule: "minimum" }], event: { properties: { product_id: "p" } } });
    const invalid = await admin(`/v1/tracking-plans/${id}/check`, { method: "POST", body: JSON.stringify({ type: "track" }) });
    expect(invalid.status).toBe(400);
  });

  it("answers a malformed filter or cursor with a 400 naming it", async () => {
    for (const [query, field] of [["cursor=nonsense", "cursor"], ["since=yesterday", "since"], ["limit=0", "limit"]]) {
      const res = await admin(`/v1/tracking-plans/violations?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await res.json<{ errors: { field: string }[] }>()).errors[0]!.field).toBe(field);
    }
  });

  it("is for admin keys only", async () => {
    for (const path of ["/v1/tracking-plans", "/v1/tracking-plans/violations", "/v1/tracking-plans/violations/counts", "/v1/tracking-plans/x"]) {
      expect((await api(path, { headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
      expect((await api(path)).status).toBe(401);
    }
    expect((await api("/v1/tracking-plans/x", { method: "PUT", headers: { authorization: bearer(KEYS.write) }, body: "{}" })).status).toBe(401);
  });
});
