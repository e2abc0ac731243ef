import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { admin, env, profileWhen, uid } from "../helpers";
import { customerIdOf, DAY, identifyAt, membersOf, saveSegmentAndWait, trackAt } from "../segment-helpers";

// In a file of its own: the quintiles depend on everyone in the database.
describe("RFM and lifetime value", () => {
  it("score against quintile cuts of the population, refreshed on demand and daily, and segments use them", async () => {
    const { rfmOf, clvOf } = await import("../../src/models/rfm");
    const { applyComputed } = await import("../../src/profiles/computed");
    const now = Date.now();
    const orders = (n: number, daysAgo: number, revenue: number) => applyComputed(undefined, Array.from({ length: n }, (_, i) => trackAt("u", "Order Completed", { revenue, currency: "EUR" }, now - (daysAgo + i * 10) * DAY)));
    const cuts = { computedAt: "", population: 100, recencyDays: [10, 30, 60, 120], frequency: [1, 1, 2, 4], monetary: [50, 100, 200, 400] };
    expect(rfmOf(cuts, orders(6, 5, 100), now)).toEqual([5, 5, 5]);
    expect(rfmOf(cuts, orders(1, 200, 20), now)).toEqual([1, 1, 1]);
    expect(rfmOf(cuts, applyComputed(undefined, []), now)).toBeNull();
    // Four orders of 100, the first 35 days ago and the last 5: 400 so far.
    const clv = clvOf(orders(4, 5, 100), now, 0)!;
    expect(clv.historical).toBe(400);
    expect(clv.currency).toBe("EUR");
    expect(clvOf(orders(4, 5, 100), now, 1)!.predicted).toBe(0);
    // Four orders over 35 days: (4 + 1) / (35/365 + 1) ≈ 4.56 orders a year of 100, certainly alive.
    expect(clv.predicted).toBeCloseTo(456.25, 0);
    // A single order last week predicts about two a year, not fifty.
    expect(clvOf(orders(1, 7, 60), now, 0)!.predicted).toBeCloseTo(117.74, 1);
    expect(clv.predicted).toBeGreaterThan(clvOf(orders(4, 5, 100), now, 0.5)!.predicted);

    // Against the stored population: ten customers, each better than the last on all three.
    const tag = uid("rfm");
    const users = Array.from({ length: 10 }, () => uid("buyer"));
    const buy = (userId: string, daysAgo: number, revenue: number) => trackAt(userId, "Order Completed", { revenue, currency: "EUR" }, now - daysAgo * DAY);
    await processEvents(env, users.flatMap((u, i) => [identifyAt(u, { cohort: tag }), ...Array.from({ length: i + 1 }, (_, k) => buy(u, 100 - 10 * i + k, 100 * (i + 1)))]));
    const [small, big] = [users[0]!, users[9]!];
    const refreshed = (await (await admin("/v1/admin/rfm/refresh", { method: "POST" })).json()) as { thresholds: { population: number; frequency: number[] } };
    expect(refreshed.thresholds.population).toBe(10);
    const { forgetRfmThresholds } = await import("../../src/models/rfm");
    forgetRfmThresholds();
    await processEvents(env, [trackAt(big, "Product Viewed", { product_id: "p" }), trackAt(small, "Product Viewed", { product_id: "p" })]);
    const bigProfile = await profileWhen(big, (p) => p.scores?.rfm !== null && p.scores?.rfm !== undefined);
    const smallProfile = await profileWhen(small, (p) => p.scores?.rfm !== null && p.scores?.rfm !== undefined);
    expect(bigProfile.scores.rfm.code).toBe("555");
    expect(smallProfile.scores.rfm.recency).toBe(1);
    expect(smallProfile.scores.rfm.code).toBe("111");
    expect(bigProfile.scores.historicalClv).toBe(10_000);
    const seg = uid("champions");
    await saveSegmentAndWait(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { computed: "rfmRecency", op: "eq", value: 5 }, { computed: "rfmMonetary", op: "eq", value: 5 }] } });
    expect(await membersOf(seg)).toEqual([await customerIdOf(big)]);
  });
});
