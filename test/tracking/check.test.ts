// Tracking plans as pure logic: which violations a person sees, what each policy does to the
// event, and which schema mistakes are refused before a plan is saved.
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { checkEvent } from "../../src/tracking/check";
import { compilePlan, schemaProblems } from "../../src/tracking/compile";
import { TrackingPlan, type Policy } from "../../src/tracking/definition";

const PRODUCT = {
  type: "object",
  required: ["product_id"],
  properties: {
    product_id: { type: "string" },
    price: { type: "number", minimum: 0 },
    currency: { enum: ["EUR", "USD"] },
    size: { anyOf: [{ type: "string" }, { type: "number" }] },
    products: { type: "array", items: { type: "object", required: ["sku"], properties: { sku: { type: "string" } } } },
  },
  additionalProperties: false,
};

const plan = (violations: Policy, unplannedEvents: Policy = "allow") =>
  compilePlan("shop", 3, TrackingPlan.parse({ sources: ["key_a"], violations, unplannedEvents, events: { "Product Viewed": PRODUCT }, identify: { type: "object", properties: { age: { type: "integer", minimum: 0 } } }, page: { type: "object", required: ["path"] } }));

const event = (e: Partial<StoredEvent>): StoredEvent => ({ messageId: "m1", type: "track", timestamp: "2026-11-24T10:00:00.000Z", receivedAt: "2026-11-24T10:00:01.000Z", sourceId: "key_a", ...e });

const bad = event({ event: "Product Viewed", properties: { price: "12", currency: "GBP", size: true, products: [{ sku: 4 }, {}], colour: "red" }, context: { ip: "1.2.3.4" } });

describe("A tracking plan's verdict on an event", () => {
  it("names each fault once, with a path into the event and the rule", () => {
    const verdict = checkEvent(plan("flag"), bad);
    expect(verdict.outcome).toBe("pass");
    if (verdict.outcome === "clean") throw new Error("unreachable");
    expect(verdict.record.violations.map((v) => `${v.path} ${v.rule}`).sort()).toEqual(
      [
        "properties.product_id required",
        "properties.price type",
        "properties.currency enum",
        "properties.size anyOf", // one fault, not one per alternative
        "properties.products[0].sku type",
        "properties.products[1].sku required",
        "properties.colour notAllowed",
      ].sort(),
    );
    expect(verdict.record).toMatchObject({ planId: "shop", planVersion: 3, eventName: "Product Viewed", action: "flagged", unplanned: false, messageId: "m1", sourceId: "key_a" });
  });

  it("a clean event passes untouched and records nothing", () => {
    const ok = event({ event: "Product Viewed", properties: { product_id: "p1", price: 12, products: [{ sku: "a" }] } });
    expect(checkEvent(plan("quarantine"), ok)).toEqual({ outcome: "clean", event: ok });
  });

  it("flag marks the event and keeps every property; allow changes nothing but is recorded", () => {
    const flagged = checkEvent(plan("flag"), bad);
    expect(flagged.event.properties).toEqual(bad.properties);
    expect(flagged.event.context).toMatchObject({ ip: "1.2.3.4", trackingPlan: { id: "shop", version: 3 } });
    const allowed = checkEvent(plan("allow"), bad);
    expect(allowed.outcome).toBe("pass");
    expect(allowed.event).toEqual(bad);
    expect(allowed.outcome !== "clean" && allowed.record.action).toBe("allowed");
  });

  it("drop removes the top-level properties at fault and says which; the rest goes through", () => {
    const verdict = checkEvent(plan("drop"), { ...bad, properties: { ...bad.properties, product_id: "p1" } });
    expect(verdict.event.properties).toEqual({ product_id: "p1" });
    expect((verdict.event.context!.trackingPlan as { dropped: string[] }).dropped.sort()).toEqual(["properties.colour", "properties.currency", "properties.price", "properties.products", "properties.size"]);
    // What is left satisfies the plan.
    expect(checkEvent(plan("drop"), verdict.event).outcome).toBe("clean");
  });

  it("quarantine keeps the event as it came, for the quarantine", () => {
    const verdict = checkEvent(plan("quarantine"), bad);
    expect(verdict.outcome).toBe("quarantine");
    expect(verdict.event).toEqual(bad);
  });

  it("an event the plan does not name follows unplannedEvents; drop keeps it without its properties", () => {
    const mystery = event({ event: "Mystery", properties: { a: 1 } });
    const verdict = checkEvent(plan("allow", "drop"), mystery);
    expect(verdict.outcome).toBe("pass");
    expect(verdict.event.properties).toEqual({});
    expect(verdict.outcome !== "clean" && verdict.record).toMatchObject({ unplanned: true, action: "dropped", eventName: "Mystery", violations: [{ path: "event", rule: "unplanned" }] });
    expect(checkEvent(plan("flag", "quarantine"), mystery).outcome).toBe("quarantine");
  });

  it("identify is checked on traits, page and screen on properties; group and alias are not checked", () => {
    const identify = checkEvent(plan("drop"), event({ type: "identify", traits: { age: -2, firstName: "Ada" } }));
    expect(identify.event.traits).toEqual({ firstName: "Ada" });
    expect(identify.outcome !== "clean" && identify.record.violations).toEqual([{ path: "traits.age", rule: "minimum", message: expect.any(String) }]);
    expect(checkEvent(plan("flag"), event({ type: "screen", name: "Home", properties: {} })).outcome).toBe("pass");
    expect(checkEvent(plan("flag"), event({ type: "page", properties: { path: "/" } })).outcome).toBe("clean");
    expect(checkEvent(plan("quarantine"), event({ type: "group", groupId: "g", traits: { age: -1 } })).outcome).toBe("clean");
  });

  it("a plan without an identify schema lets every identify through", () => {
    const noIdentify = compilePlan("p", 1, TrackingPlan.parse({ sources: ["k"], violations: "quarantine", unplannedEvents: "quarantine" }));
    expect(checkEvent(noIdentify, event({ type: "identify", traits: { anything: [1] } })).outcome).toBe("clean");
  });
});

describe("Schema mistakes refused before saving", () => {
  it("finds an unknown type, a malformed required and a $ref that does not resolve, where they are", () => {
    expect(schemaProblems({ type: "object", properties: { a: { type: "strin" }, b: { items: { $ref: "#/$defs/missing" } } }, required: "a" }, "events.X").map((p) => p.path)).toEqual([
      "events.X.required",
      "events.X.properties.a.type",
      "events.X.properties.b.items.$ref",
    ]);
  });

  it("accepts a sound schema with local references", () => {
    expect(schemaProblems({ $defs: { money: { type: "number", minimum: 0 } }, type: "object", properties: { price: { $ref: "#/$defs/money" }, tags: { type: ["array", "null"] } } }, "events.X")).toEqual([]);
    expect(schemaProblems(true, "identify")).toEqual([]);
  });
});
