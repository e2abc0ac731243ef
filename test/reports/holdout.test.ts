import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { inHoldout } from "../../src/triggers/fire";
import { admin, env, eventually, uid } from "../helpers";
import { customerIdOf, ev, hookUrl, HOUR, putTrigger, received, runAlarm, track } from "../trigger-helpers";

interface Line {
  key: string;
  lift: { treated: number; held: number; treatedConversionRate: number; heldConversionRate: number; incrementalConversions: { estimate: number; low: number; high: number } } | null;
}

describe("a trigger's holdout", () => {
  it("holds back the message for its share of customers, and the report compares their conversions with those who got it", async () => {
    const id = uid("hold").toLowerCase();
    const hook = uid("hook");
    const viewed = `Viewed ${id}`;
    expect((await putTrigger(id, { name: "Browse abandonment with a holdout", start: { event: viewed }, wait: { hours: 1 }, holdoutPercent: 50, destination: { url: hookUrl(hook) } })).status).toBe(201);
    const customers = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const userId = uid();
        await processEvents(env, [ev({ type: "identify", userId, traits: { email: `${userId}@example.com` }, timestamp: new Date(Date.now() - 3 * HOUR).toISOString() }), track({ userId }, viewed, { product_id: "sku-1" }, 2)]);
        const customerId = await customerIdOf(userId);
        return { userId, customerId, held: inHoldout(id, customerId, 50) };
      }),
    );
    const held = customers.filter((c) => c.held);
    const treated = customers.filter((c) => !c.held);
    // Twelve random ids all on one side would be a 1-in-2,048 event; the test needs both arms.
    expect(held.length).toBeGreaterThan(0);
    expect(treated.length).toBeGreaterThan(0);
    for (const c of customers) await runAlarm(c.customerId);

    // Only the treated got the message; the held-out ones are in their history as held.
    const sent = await eventually(async () => {
      const got = await received(hook);
      return got.length === treated.length ? got : null;
    }, "the treated customers' webhooks");
    expect(new Set(sent.map((r) => JSON.parse(r.body).customer.id))).toEqual(new Set(treated.map((c) => c.customerId)));
    const history = (await (await admin(`/v1/customers/${held[0]!.userId}/triggers`)).json()) as { history: { triggerId: string; outcome: string }[] };
    // One entry per firing: the record for the profile that goes with it is not a second one.
    expect(history.history).toEqual([expect.objectContaining({ triggerId: id, outcome: "held" })]);

    const line = async (ready: (l: Line) => boolean) =>
      eventually(async () => {
        const body = (await (await admin("/v1/reports/engagement?by=trigger")).json()) as { lines: Line[] };
        const l = body.lines.find((x) => x.key === id);
        return l && ready(l) ? l : null;
      }, "the trigger's report line");
    await line((l) => l.lift?.treated === treated.length && l.lift.held === held.length);

    // Every treated customer orders twice (one conversion each), one held-out customer once.
    const order = (userId: string) => track({ userId }, "Order Completed", { order_id: uid("o"), revenue: 20 });
    await processEvents(env, [...treated.flatMap((c) => [order(c.userId), order(c.userId)]), order(held[0]!.userId)]);
    const after = await line((l) => (l.lift?.incrementalConversions.estimate ?? 0) !== 0);
    expect(after.lift!.treatedConversionRate).toBe(1);
    expect(after.lift!.heldConversionRate).toBeCloseTo(1 / held.length, 4);
    // (1 − 1/h)·t more conversions than without the message.
    expect(after.lift!.incrementalConversions.estimate).toBeCloseTo((1 - 1 / held.length) * treated.length, 1);
    await admin(`/v1/triggers/${id}`, { method: "DELETE" });
  });
});
