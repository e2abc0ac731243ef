import { describe, expect, it } from "vitest";
import { formatBody } from "../../src/delivery/formats";
import { TriggerDefinition } from "../../src/triggers/definition";
import { afterQuietHours, atBestHour, decide, isCapped } from "../../src/triggers/schedule";

const H = 3_600_000;
const quiet = { start: "21:00", end: "08:00" };

describe("quiet hours", () => {
  it("defers to the end of a window that crosses midnight, in the customer's time zone", () => {
    // 23:30 in Paris (UTC+1 in winter) is 22:30 UTC.
    const at = Date.parse("2026-01-15T22:30:00Z");
    expect(new Date(afterQuietHours(at, quiet, "Europe/Paris")).toISOString()).toBe("2026-01-16T07:00:00.000Z");
    // Outside the window: unchanged.
    const noon = Date.parse("2026-01-15T11:00:00Z");
    expect(afterQuietHours(noon, quiet, "Europe/Paris")).toBe(noon);
    // 05:00 in Paris: three hours to go.
    expect(new Date(afterQuietHours(Date.parse("2026-01-16T04:00:00Z"), quiet, "Europe/Paris")).toISOString()).toBe("2026-01-16T07:00:00.000Z");
  });

  it("lands on the local end time across a daylight-saving change", () => {
    // New York springs forward on 2026-03-08 at 02:00: 23:00 EST the night before → 08:00 EDT.
    const at = Date.parse("2026-03-08T04:00:00Z");
    expect(new Date(afterQuietHours(at, quiet, "America/New_York")).toISOString()).toBe("2026-03-08T12:00:00.000Z");
  });

  it("handles a window within one day", () => {
    const lunch = { start: "12:00", end: "14:00" };
    expect(new Date(afterQuietHours(Date.parse("2026-06-01T12:30:00Z"), lunch, "UTC")).toISOString()).toBe("2026-06-01T14:00:00.000Z");
    expect(afterQuietHours(Date.parse("2026-06-01T14:00:00Z"), lunch, "UTC")).toBe(Date.parse("2026-06-01T14:00:00Z"));
  });
});

describe("firing decisions", () => {
  const def = (extra: Record<string, unknown> = {}) => TriggerDefinition.parse({ name: "t", start: { event: "E" }, wait: { hours: 1 }, destination: { url: "https://esp.test/hook" }, ...extra });
  const now = Date.parse("2026-06-01T12:00:00Z");

  it("drops a timer too late to matter, and any after the trigger's expiry", () => {
    expect(decide(def(), now - 25 * H, now, null, [])).toEqual({ action: "drop", outcome: "too_late" });
    expect(decide(def(), now - 23 * H, now, null, [])).toEqual({ action: "fire" });
    expect(decide(def({ expiry: { until: "2026-05-31T00:00:00Z" } }), now, now, null, [])).toEqual({ action: "drop", outcome: "expired" });
  });

  it("counts only sends within the cap's period", () => {
    const cap = { count: 2, periodHours: 24 };
    expect(isCapped(cap, [now - 1 * H, now - 30 * H], now)).toBe(false);
    expect(isCapped(cap, [now - 1 * H, now - 2 * H], now)).toBe(true);
    expect(decide(def({ frequencyCap: cap }), now, now, null, [now - H, now - 2 * H])).toEqual({ action: "drop", outcome: "capped" });
  });

  it("uses the trigger's default time zone when the customer's is unknown", () => {
    const d = def({ quietHours: { ...quiet, defaultTimeZone: "Asia/Tokyo" } });
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 there, 23:00 UTC.
    expect(decide(d, now, now, null, [])).toEqual({ action: "defer", until: Date.parse("2026-06-01T23:00:00Z") });
    expect(decide(d, now, now, "UTC", [])).toEqual({ action: "fire" });
  });
});

describe("ESP formats", () => {
  const payload = {
    id: "dlv_1",
    type: "trigger.fired" as const,
    trigger: { id: "cart-abandonment", version: 2, name: "Cart" },
    customer: { id: "cus_1", userId: null, email: "ada@example.com", session: null } as never,
    items: [{ productId: "sku-1" }],
    startedBy: { event: "Product Added", messageId: "m", timestamp: "2026-06-01T08:00:00.000Z" },
    dueAt: "2026-06-01T12:00:00.000Z",
    firedAt: "2026-06-01T12:00:00.000Z",
  };
  it("identifies by email when there is no userId (Braze, Customer.io)", () => {
    const braze = JSON.parse(formatBody({ url: "https://rest.iad-01.braze.com/users/track", format: "braze" }, payload).body);
    expect(braze.events[0]).toMatchObject({ email: "ada@example.com", name: "rapport.cart-abandonment", time: payload.firedAt, properties: { items: payload.items, delivery_id: "dlv_1" } });
    const cio = JSON.parse(formatBody({ url: "https://track.customer.io/api/v2/entity", format: "customerio" }, payload).body);
    expect(cio).toMatchObject({ type: "person", identifiers: { email: "ada@example.com" }, action: "event", name: "rapport.cart-abandonment", id: "dlv_1" });
  });

  it("finds the customer's best hour across a change of clocks", () => {
    // Berlin leaves summer time at 03:00 on 25 October 2026: 09:00 that morning is 08:00 UTC.
    const due = Date.UTC(2026, 9, 24, 22, 0);
    expect(atBestHour(due, due, 9, "Europe/Berlin", 12)).toBe(Date.UTC(2026, 9, 25, 8, 0));
    expect(atBestHour(due, due, 9, "Europe/Berlin", 6)).toBeNull();
  });
});
