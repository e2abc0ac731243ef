import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { applyEngagement, DEFAULT_ATTRIBUTION, mergeEngagement, type EngagementCount, type EngagementState } from "../../src/profiles/engagement";
import { ev } from "../trigger-helpers";

let n = 0;
const at = (iso: string, event: string, properties: Record<string, unknown> = {}, extra: Partial<StoredEvent> = {}) =>
  ev({ type: "track", userId: "u1", event, messageId: `m-${++n}`, timestamp: iso, properties, ...extra });

/** The counts of one dimension's key, added up over days. */
function sums(counts: readonly EngagementCount[], dimension: string, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) if (c.dimension === dimension && c.key === key) for (const [m, v] of Object.entries(c.metrics)) out[m] = (out[m] ?? 0) + v;
  return out;
}

/** Applies batches one after the other, as the pipeline would, collecting what each adds. */
function run(batches: StoredEvent[][], state?: EngagementState): { state: EngagementState | undefined; counts: EngagementCount[] } {
  const counts: EngagementCount[] = [];
  for (const b of batches) {
    const r = applyEngagement(state, b, DEFAULT_ATTRIBUTION);
    state = r.state;
    counts.push(...r.counts);
  }
  return { state, counts };
}

const pixel = { block_id: "offer", delivery_id: "dlv_1", trigger_id: "cart" };

describe("engagement on the profile", () => {
  it("counts human opens once per message, machine opens apart, and clicks", () => {
    const { counts } = run([
      [at("2026-06-01T10:00:00Z", "Email Opened", { ...pixel, engagement_class: "machine_open" })],
      [at("2026-06-01T12:00:00Z", "Email Opened", { ...pixel, engagement_class: "human" }), at("2026-06-01T12:05:00Z", "Email Opened", pixel)],
      [at("2026-06-01T12:06:00Z", "Email Link Clicked", { block_id: "offer", delivery_id: "dlv_1" })],
    ]);
    const trigger = sums(counts, "trigger", "cart");
    expect(trigger).toEqual({ reached: 1, machineOpens: 1, opens: 2, uniqueOpens: 1, clicks: 1, uniqueClicks: 1 });
    expect(sums(counts, "block", "offer")).toEqual(trigger);
  });

  it("takes a click within a second of delivery for a scanner's, and an ESP's bot flag likewise", () => {
    const { counts } = run([
      [
        at("2026-06-01T10:00:00.000Z", "Email Delivered", { email_id: "sg-1", trigger_id: "cart" }),
        at("2026-06-01T10:00:00.400Z", "Email Link Clicked", { email_id: "sg-1" }),
        at("2026-06-01T10:30:00Z", "Email Link Clicked", { email_id: "sg-1", bot: true }),
        at("2026-06-01T11:00:00Z", "Email Link Clicked", { email_id: "sg-1" }),
      ],
    ]);
    expect(sums(counts, "trigger", "cart")).toEqual({ delivered: 1, scannerClicks: 2, reached: 1, clicks: 1, uniqueClicks: 1 });
  });

  it("takes a click stamped with its delivery's second for a scanner's, whichever event sorts first by id", () => {
    const click = at("2026-06-01T10:00:00Z", "Email Link Clicked", { email_id: "sg-2", trigger_id: "cart" }, { messageId: "a-click" });
    const delivered = at("2026-06-01T10:00:00Z", "Email Delivered", { email_id: "sg-2", trigger_id: "cart" }, { messageId: "z-delivered" });
    expect(sums(run([[click, delivered]]).counts, "trigger", "cart")).toEqual({ delivered: 1, scannerClicks: 1 });
  });

  it("credits a conversion once, to the last human touch within its window, and never to a machine open", () => {
    const { state, counts } = run([
      [at("2026-06-01T10:00:00Z", "Email Opened", { block_id: "a", email_id: "e1", trigger_id: "t-a" })],
      [at("2026-06-02T10:00:00Z", "Email Link Clicked", { block_id: "b", email_id: "e2", trigger_id: "t-b" })],
      [at("2026-06-03T10:00:00Z", "Email Opened", { block_id: "c", email_id: "e3", trigger_id: "t-c", apple_privacy_open: true })],
      [at("2026-06-04T10:00:00Z", "Order Completed", { revenue: 40 })],
      // Ten days after the last human touch: nobody's.
      [at("2026-06-12T10:00:01Z", "Order Completed", { revenue: 99 })],
    ]);
    expect(sums(counts, "trigger", "t-b")).toMatchObject({ conversions: 1, revenue: 4000 });
    expect(sums(counts, "trigger", "t-a").conversions).toBeUndefined();
    expect(sums(counts, "trigger", "t-c").conversions).toBeUndefined();
    expect(state?.credits).toHaveLength(1);
    expect(state?.credits[0]).toMatchObject({ revenue: 4000, touch: "click", source: { trigger: "t-b", block: "b" } });
  });

  it("lets an ESP's event that names only the message find the trigger an earlier event named", () => {
    const { counts } = run([[at("2026-06-01T10:00:00Z", "Email Delivered", { email_id: "sg-9", trigger_id: "welcome", block_id: "hero" })], [at("2026-06-01T11:00:00Z", "Email Opened", { email_id: "sg-9" })]]);
    expect(sums(counts, "trigger", "welcome")).toEqual({ delivered: 1, reached: 1, opens: 1, uniqueOpens: 1 });
    expect(sums(counts, "block", "hero").uniqueOpens).toBe(1);
  });

  it("counts a trigger's firings by arm and each firing's first conversion, on the firing's day", () => {
    const internal = { sourceId: "rapport-triggers" };
    const fired = (iso: string, delivery: string, holdout: boolean) => at(iso, "Trigger Fired", { trigger_id: "cart", delivery_id: delivery, holdout }, internal);
    const treated = run([[fired("2026-06-01T10:00:00Z", "d1", false)], [at("2026-06-02T09:00:00Z", "Order Completed", { revenue: 30 })], [at("2026-06-03T09:00:00Z", "Order Completed", { revenue: 20 })]]);
    expect(sums(treated.counts, "trigger", "cart")).toEqual({ treated: 1, treatedConversions: 1, treatedRevenue: 5000, treatedRevenueSq: 5000 ** 2 });
    expect(new Set(treated.counts.filter((c) => c.dimension === "trigger").map((c) => c.day))).toEqual(new Set([Math.floor(Date.parse("2026-06-01T00:00:00Z") / 86_400_000)]));
    const held = run([[fired("2026-06-01T10:00:00Z", "d2", true), fired("2026-06-01T10:00:00Z", "d2", true)]]);
    expect(sums(held.counts, "trigger", "cart")).toEqual({ held: 1 });
    // A client cannot send one.
    const forged = run([[at("2026-06-01T10:00:00Z", "Trigger Fired", { trigger_id: "cart", delivery_id: "d3", holdout: true })]]);
    expect(forged.counts).toEqual([]);
  });

  it("leaves a profile that never had email untouched by its orders", () => {
    expect(applyEngagement(undefined, [at("2026-06-01T10:00:00Z", "Order Completed", { revenue: 10 })])).toEqual({ state: undefined, counts: [] });
  });

  it("merges two profiles of one person whichever absorbs the other", () => {
    const a = run([[at("2026-06-01T10:00:00Z", "Email Opened", { email_id: "x", trigger_id: "t" })]]).state;
    const b = run([[at("2026-06-01T09:00:00Z", "Email Link Clicked", { email_id: "x", trigger_id: "t" })]]).state;
    expect(mergeEngagement(a, b)).toEqual(mergeEngagement(b, a));
    // The message both saw is one mark: a later open by either is not unique again.
    const after = run([[at("2026-06-01T12:00:00Z", "Email Opened", { email_id: "x" })]], mergeEngagement(a, b));
    expect(sums(after.counts, "trigger", "t")).toEqual({ opens: 1 });
  });
});
