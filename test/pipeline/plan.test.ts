/**
 * The apply and plan stages of a commit, without bindings: from resolved groups to what the
 * batch writes and which Durable Objects it calls.
 */
import { describe, expect, it } from "vitest";
import { isWriteConflict } from "../../src/db/write-conflict";
import type { ResolvedGroup } from "../../src/identity/resolve";
import { ENRICHER_SOURCE_PREFIX, type StoredEvent } from "../../src/model/events";
import { planCommit as planStage, type PlanContext } from "../../src/pipeline/plan";
import type { Resolved } from "../../src/pipeline/resolve";
import { emptyProfile } from "../../src/profiles/apply";
import { RowEvents } from "../../src/profiles/row-events";
import type { StoredProfile } from "../../src/profiles/store";
import { SegmentDefinition } from "../../src/segments/definition";
import { rulesOf } from "../../src/segments/rules";
import { TriggerDefinition, type Trigger } from "../../src/triggers/definition";

const NOW = Date.UTC(2026, 11, 1);
let n = 0;
const track = (event: string, properties: Record<string, unknown> = {}, at = NOW - 1000): StoredEvent => ({ messageId: `m${++n}`, type: "track", userId: "u", event, properties, timestamp: new Date(at).toISOString(), receivedAt: new Date(at).toISOString(), sourceId: "key_test" });
const group = (customerId: string, events: StoredEvent[], extra: Partial<ResolvedGroup> = {}): ResolvedGroup => ({ customerId, isNew: false, events, newIdentities: [], merges: [], conflicts: [], ...extra });
const stored = (id: string, extra: Partial<StoredProfile> = {}): StoredProfile => ({ id, state: emptyProfile(), identities: [{ key: `user_id:${id}`, kind: "user_id", value: id }], eventSeq: 4, recentEvents: RowEvents.empty(), chunkCount: 0, absorbed: {}, segments: {}, scores: null, version: 3, servedAt: null, sessionAt: null, createdAt: NOW - 86_400_000, updatedAt: NOW - 3_600_000, ...extra });
const trigger = (id: string, event: string, conditions: object[] = []): Trigger => ({ id, version: 1, definition: TriggerDefinition.parse({ name: id, start: { event }, wait: { hours: 1 }, conditions, destination: { url: "https://esp.test/hook" } }) });
/** As the shipped recipes: only a customer with an email address can be sent to. */
const needsEmail = [{ trait: "email", op: "exists" }];
const segment = (id: string, rule: object) => ({ id, version: 1, membersSince: 0, definition: SegmentDefinition.parse({ name: id, rule }) });

/** `seen`: events the customers' objects already hold (applied); the others are answered fresh, as the store stage does. */
type TestContext = Partial<PlanContext> & { seen?: ReadonlySet<string> };
const context = (extra: TestContext = {}): TestContext => extra;

function planCommit(resolved: Pick<Resolved, "groups" | "profiles">, { seen = new Set(), ...extra }: TestContext) {
  const fresh = new Map(resolved.groups.map((g) => [g.customerId, g.events.filter((e) => !seen.has(e.messageId))]));
  const seq = new Map(resolved.groups.filter((g) => fresh.get(g.customerId)!.length > 0).map((g) => [g.customerId, (resolved.profiles.get(g.customerId)?.eventSeq ?? 0) + 1]));
  return planStage(resolved, { rules: rulesOf([]), normalize: {}, now: NOW, stored: { fresh, seq }, derived: new Set(), triggers: [], redelivered: false, audience: [], ...extra });
}

describe("planCommit", () => {
  it("writes a new customer once with all its events and calls no object when nothing asks for one", () => {
    const events = [track("Viewed"), track("Viewed"), track("Added")];
    const plan = planCommit({ groups: [group("cus_new", events, { isNew: true })], profiles: new Map() }, context());
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]).toMatchObject({ customerId: "cus_new", previousVersion: null, createdAt: NOW, sessionAt: null });
    expect(plan.writes[0]!.state.counters.events).toEqual({ Viewed: 2, Added: 1 });
    expect(plan.newEvents).toEqual(events);
    expect(plan.sessionCalls).toEqual([]);
    expect(plan.documents).toBe(0);
  });

  it("sets aside events already stored as duplicates and does not rewrite an unchanged customer", () => {
    const old = track("Viewed");
    const plan = planCommit({ groups: [group("cus_a", [old])], profiles: new Map([["cus_a", stored("cus_a")]]) }, context({ seen: new Set([old.messageId]) }));
    expect(plan.duplicates).toBe(1);
    expect(plan.writes).toEqual([]);
    expect(plan.newEvents).toEqual([]);
  });

  it("calls the object of a customer whose events a trigger concerns, and marks its session started", () => {
    const cart = trigger("abandon", "Product Added");
    const events = [track("Product Added"), track("Page Viewed")];
    const plan = planCommit({ groups: [group("cus_a", events)], profiles: new Map([["cus_a", stored("cus_a")]]) }, context({ triggers: [cart, trigger("other", "Order Completed")] }));
    expect(plan.sessionCalls).toEqual([{ customerId: "cus_a", events, triggers: [cart], document: null, absorb: [], seed: true }]);
    expect(plan.writes[0]!.sessionAt).toBe(NOW);
  });

  it("sends every event again on redelivery, the stored ones included, but never an enricher's answers", () => {
    const old = track("Product Added");
    const enriched: StoredEvent = { ...track("x"), type: "identify", traits: { company: "Acme" }, sourceId: `${ENRICHER_SOURCE_PREFIX}clearbit` } as StoredEvent;
    delete (enriched as { event?: string }).event;
    const profiles = new Map([["cus_a", stored("cus_a", { sessionAt: NOW - 60_000 })]]);
    const plan = planCommit({ groups: [group("cus_a", [old, enriched])], profiles }, context({ seen: new Set([old.messageId, enriched.messageId]), redelivered: true }));
    expect(plan.writes).toEqual([]);
    expect(plan.sessionCalls.map((c) => c.events)).toEqual([[old]]);
  });

  it("gives a served customer the next version of its document, and none to a customer nobody reads", () => {
    const served = stored("cus_s", { servedAt: NOW - 10_000 });
    const plan = planCommit({ groups: [group("cus_s", [track("Viewed")]), group("cus_q", [track("Viewed")])], profiles: new Map([["cus_s", served], ["cus_q", stored("cus_q")]]) }, context());
    expect(plan.documents).toBe(1);
    const call = plan.sessionCalls.find((c) => c.customerId === "cus_s")!;
    expect(call.document).toMatchObject({ id: "cus_s", version: 4 });
    expect(plan.sessionCalls.some((c) => c.customerId === "cus_q")).toBe(false);
  });

  it("writes the absorbed customers of a merge and retires the snapshot of a served one", () => {
    const event = track("Signed Up");
    const profiles = new Map([["cus_a", stored("cus_a")], ["cus_b", stored("cus_b", { servedAt: NOW - 5000, sessionAt: NOW - 5000 })]]);
    const plan = planCommit({ groups: [group("cus_a", [event], { merges: [{ customerId: "cus_b", messageId: event.messageId, keys: ["email:x@example.com"] }] })], profiles }, context());
    expect(plan.merges).toEqual([{ survivorId: "cus_a", merged: profiles.get("cus_b"), cause: { messageId: event.messageId, keys: ["email:x@example.com"] }, now: NOW }]);
    expect(plan.retiredSnapshots).toEqual(["cus_b"]);
    expect(plan.sessionCalls[0]!.absorb).toEqual(["cus_b"]);
  });

  it("notifies the triggers of a segment entry and records the transition", () => {
    const vip = segment("vip", { event: "Order Completed", atLeast: 1 });
    const welcome = trigger("vip-welcome", "Segment Entered");
    const plan = planCommit({ groups: [group("cus_a", [track("Order Completed", { total: 10 })])], profiles: new Map([["cus_a", stored("cus_a")]]) }, context({ rules: rulesOf([vip]), triggers: [welcome] }));
    expect(plan.membershipChanges).toEqual([{ customerId: "cus_a", transitions: [{ segmentId: "vip", kind: "entered", at: NOW }] }]);
    expect(plan.notifications).toHaveLength(1);
    expect(plan.notifications[0]!.events[0]).toMatchObject({ event: "Segment Entered", properties: { segment_id: "vip" } });
    expect(plan.writes[0]!.segments).toEqual({ vip: [1, NOW] });
  });

  it("records product views only while a catalog trigger asks for them, keeping each customer's latest view of a product", () => {
    const views = [track("Product Viewed", { product_id: "p1" }, NOW - 3000), track("Product Viewed", { product_id: "p1" }, NOW - 1000), track("Product Viewed", { product_id: "p2" }, NOW - 2000)];
    const input = { groups: [group("cus_a", views)], profiles: new Map([["cus_a", stored("cus_a")]]) };
    expect(planCommit(input, context()).views).toEqual([]);
    expect(planCommit(input, context({ audience: [trigger("price-drop", "Price Dropped")] })).views).toEqual([
      { productId: "p1", customerId: "cus_a", viewedAt: NOW - 1000 },
      { productId: "p2", customerId: "cus_a", viewedAt: NOW - 2000 },
    ]);
  });

  it("calls no object and records no views for a visitor no trigger can reach, then replays their history when an email arrives", () => {
    const browse = trigger("browse", "Product Viewed", needsEmail);
    const priceDrop = trigger("price-drop", "Price Dropped", needsEmail);
    const ctx = context({ triggers: [browse, priceDrop], audience: [priceDrop] });
    const viewed = track("Product Viewed", { product_id: "p1" }, NOW - 5000);
    const anonymous = planCommit({ groups: [group("cus_a", [viewed])], profiles: new Map([["cus_a", stored("cus_a")]]) }, ctx);
    expect(anonymous.sessionCalls).toEqual([]);
    expect(anonymous.views).toEqual([]);
    expect(anonymous.writes[0]!.sessionAt).toBeNull();

    // The next batch: the stored visitor signs up.
    const history = stored("cus_a");
    const identify: StoredEvent = { ...track("x"), type: "identify", traits: { email: "ada@example.com" } } as StoredEvent;
    delete (identify as { event?: string }).event;
    const signedUp = planCommit({ groups: [group("cus_a", [identify])], profiles: new Map([["cus_a", history]]) }, ctx);
    expect(signedUp.sessionCalls).toEqual([{ customerId: "cus_a", events: [identify], triggers: [], document: null, absorb: [], seed: true, replay: [browse, priceDrop] }]);
    // Its earlier views join the price drop's audience through the object's replay, which reads them.
    expect(signedUp.views).toEqual([]);

    // Reachable from then on: a view calls the object with the trigger, and nothing to replay.
    const known = stored("cus_a", { state: signedUp.writes[0]!.state, sessionAt: NOW });
    const again = track("Product Viewed", { product_id: "p2" });
    const later = planCommit({ groups: [group("cus_a", [again])], profiles: new Map([["cus_a", known]]) }, ctx);
    expect(later.sessionCalls).toEqual([{ customerId: "cus_a", events: [again], triggers: [browse], document: null, absorb: [], seed: true }]);
    expect(later.views).toEqual([{ productId: "p2", customerId: "cus_a", viewedAt: NOW - 1000 }]);
  });

  it("replays again on redelivery, when the first attempt may have committed the email but not reached the object", () => {
    const browse = trigger("browse", "Product Viewed", needsEmail);
    const identify: StoredEvent = { ...track("x"), type: "identify", traits: { email: "ada@example.com" } } as StoredEvent;
    delete (identify as { event?: string }).event;
    const committed = planCommit({ groups: [group("cus_a", [identify])], profiles: new Map([["cus_a", stored("cus_a")]]) }, context({ triggers: [browse] })).writes[0]!.state;
    const retried = planCommit({ groups: [group("cus_a", [identify])], profiles: new Map([["cus_a", stored("cus_a", { state: committed, sessionAt: NOW })]]) }, context({ triggers: [browse], seen: new Set([identify.messageId]), redelivered: true }));
    expect(retried.sessionCalls[0]).toMatchObject({ customerId: "cus_a", replay: [browse] });
  });

  it("replays the history of an anonymous survivor that absorbs a known customer", () => {
    const browse = trigger("browse", "Product Viewed", needsEmail);
    const identify: StoredEvent = { ...track("x"), type: "identify", traits: { email: "ada@example.com" } } as StoredEvent;
    delete (identify as { event?: string }).event;
    const knownState = planCommit({ groups: [group("cus_k", [identify])], profiles: new Map([["cus_k", stored("cus_k")]]) }, context()).writes[0]!.state;
    const merge = { customerId: "cus_k", messageId: "m-merge", keys: ["email:ada@example.com"] };
    const profiles = new Map([["cus_anon", stored("cus_anon")], ["cus_k", stored("cus_k", { state: knownState, sessionAt: NOW - 1000 })]]);
    const plan = planCommit({ groups: [group("cus_anon", [track("Page Viewed")], { merges: [merge] })], profiles }, context({ triggers: [browse] }));
    expect(plan.sessionCalls[0]).toMatchObject({ customerId: "cus_anon", absorb: ["cus_k"], seed: true, replay: [browse] });
  });

  it("starts over (a write conflict) when a customer read a moment ago is gone", () => {
    const attempt = () => planCommit({ groups: [group("cus_gone", [track("Viewed")])], profiles: new Map() }, context());
    expect(attempt).toThrow();
    try {
      attempt();
    } catch (err) {
      expect(isWriteConflict(err)).toBe(true);
    }
  });
});
