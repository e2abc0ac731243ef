/** The firing decision of a due timer, without a Durable Object. */
import { describe, expect, it } from "vitest";
import { emptyProfile } from "../../src/profiles/apply";
import { toDocument, type CustomerProfile } from "../../src/profiles/document";
import type { DeliveryMessage } from "../../src/triggers/delivery-message";
import { TriggerDefinition, type TriggerDefinitionInput } from "../../src/triggers/definition";
import { type DueTimer, firingOf } from "../../src/triggers/fire";
import type { StoredTrigger } from "../../src/triggers/store";

const NOW = Date.UTC(2026, 11, 6, 15, 0);
const timer = (extra: Partial<DueTimer> = {}): DueTimer => ({ id: "cart|", trigger_id: "cart", start_message_id: "m1", start_event: "Product Added", started_at: NOW - 3_600_000, due_at: NOW - 1000, fire_at: NOW - 1000, items: JSON.stringify([{ productId: "p1" }]), ...extra });
const trigger = (extra: Partial<TriggerDefinitionInput> = {}, stored: Partial<StoredTrigger> = {}): StoredTrigger => ({
  id: "cart",
  version: 2,
  enabled: true,
  createdAt: 0,
  updatedAt: 0,
  deletedAt: null,
  definition: TriggerDefinition.parse({ name: "Cart", start: { event: "Product Added" }, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" }, ...extra }),
  ...stored,
});
const customer = (traits: Record<string, unknown> = {}): CustomerProfile => {
  const state = emptyProfile();
  state.traits = traits;
  return toDocument("cus_1", state, [{ key: "user_id:u1", kind: "user_id", value: "u1" }], 3, NOW - 5000);
};
const context = (found: CustomerProfile | null = customer(), extra = {}) => {
  let reads = 0;
  return { reads: () => reads, ctx: { now: NOW, customer: async () => {
        reads++;
        return found;
      }, sessionTimeZone: null, sentAt: [], ...extra } };
};

describe("firingOf", () => {
  it("sends the trigger's message with the customer, the items and a delivery id that a rerun repeats", async () => {
    const { ctx } = context();
    const firing = await firingOf(timer(), trigger(), ctx);
    expect(firing.action).toBe("send");
    if (firing.action !== "send") return;
    const message = JSON.parse(firing.body) as DeliveryMessage;
    expect(message).toMatchObject({ v: 1, deliveryId: firing.deliveryId, customerId: "cus_1", destination: { url: "https://esp.test/hook" } });
    expect(message.payload).toMatchObject({ type: "trigger.fired", trigger: { id: "cart", version: 2, name: "Cart" }, items: [{ productId: "p1" }], startedBy: { event: "Product Added", messageId: "m1" } });
    expect(((await firingOf(timer(), trigger(), ctx)) as { deliveryId: string }).deliveryId).toBe(firing.deliveryId);
  });

  it("drops the timer of a disabled or deleted trigger without reading the customer", async () => {
    for (const stored of [trigger({}, { enabled: false }), trigger({}, { deletedAt: NOW - 1 }), null]) {
      const { ctx, reads } = context();
      expect(await firingOf(timer(), stored, ctx)).toEqual({ action: "drop", outcome: "trigger_disabled", reason: null });
      expect(reads()).toBe(0);
    }
  });

  it("defers past quiet hours in the customer's time zone, the session's before the trait's", async () => {
    const quiet = trigger({ quietHours: { start: "14:00", end: "18:00" } });
    // 15:00 UTC is quiet in UTC; in Tokyo (00:00) it is not.
    expect((await firingOf(timer(), quiet, context(customer()).ctx)).action).toBe("defer");
    expect((await firingOf(timer(), quiet, context(customer({ timezone: "Asia/Tokyo" })).ctx)).action).toBe("send");
    expect((await firingOf(timer(), quiet, context(customer({ timezone: "Asia/Tokyo" }), { sessionTimeZone: "UTC" }).ctx)).action).toBe("defer");
  });

  it("drops when the customer is gone, and names the condition the profile fails", async () => {
    expect(await firingOf(timer(), trigger(), context(null).ctx)).toEqual({ action: "drop", outcome: "customer_gone", reason: null });
    const vip = trigger({ conditions: [{ trait: "tier", op: "eq", value: "vip" }] });
    const dropped = await firingOf(timer(), vip, context(customer({ tier: "basic" })).ctx);
    expect(dropped).toMatchObject({ action: "drop", outcome: "conditions_not_met" });
    expect((dropped as { reason: string }).reason).toContain("tier");
    expect((await firingOf(timer(), vip, context(customer({ tier: "vip" })).ctx)).action).toBe("send");
  });

  it("drops a message too large for the queue, saying its size", async () => {
    const items = JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ productId: `p${i}`, name: "x".repeat(100) })));
    const firing = await firingOf(timer({ items }), trigger(), context().ctx);
    expect(firing).toMatchObject({ action: "drop", outcome: "too_large" });
  });

  it("drops a timer capped by the trigger's frequency cap", async () => {
    const capped = trigger({ frequencyCap: { count: 1, periodHours: 24 } });
    expect(await firingOf(timer(), capped, context(customer(), { sentAt: [NOW - 3_600_000] }).ctx)).toEqual({ action: "drop", outcome: "capped", reason: null });
  });

  describe("at the customer's best hour", () => {
    // NOW is 15:00 UTC, 16:00 in Berlin (winter time).
    const reader = (bestHour: number, engagements = 8) => ({ ...customer(), sendTime: { bestHour, timeZone: "Europe/Berlin", confidence: 0.5, engagements } });

    it("waits for the hour when it comes within the window, then sends at it", async () => {
      const wanted = trigger({ bestHour: { withinHours: 12 } });
      const first = await firingOf(timer(), wanted, context(reader(19)).ctx);
      expect(first).toEqual({ action: "defer", until: Date.UTC(2026, 11, 6, 18, 0) });
      // The alarm at 19:00 Berlin time: the hour has come.
      const at = Date.UTC(2026, 11, 6, 18, 0);
      const then = await firingOf(timer({ fire_at: at }), wanted, { ...context(reader(19)).ctx, now: at });
      expect(then.action).toBe("send");
    });

    it("sends at once when the hour is too far, is now, or the customer's own history is too thin", async () => {
      // 09:00 Berlin is 17 hours away.
      expect((await firingOf(timer(), trigger({ bestHour: { withinHours: 12 } }), context(reader(9)).ctx)).action).toBe("send");
      expect((await firingOf(timer(), trigger({ bestHour: { withinHours: 12 } }), context(reader(16)).ctx)).action).toBe("send");
      expect((await firingOf(timer(), trigger({ bestHour: { withinHours: 12, minEngagements: 10 } }), context(reader(19, 3)).ctx)).action).toBe("send");
    });
  });
});
