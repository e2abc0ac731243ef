/** The commit stage against real D1: one batch, all or nothing, and the objects' watermarks with it. */
import { env } from "cloudflare:workers";
import { shards } from "../../src/db/shards";
import { describe, expect, it } from "vitest";
import { isWriteConflict } from "../../src/db/write-conflict";
import type { StoredEvent } from "../../src/model/events";
import { commitPlan } from "../../src/pipeline/commit";
import { planCommit, type PlanContext } from "../../src/pipeline/plan";
import { resolveEvents } from "../../src/pipeline/resolve";
import { storeEvents } from "../../src/pipeline/store-events";
import { loadProfile } from "../../src/profiles/store";
import { rulesOf } from "../../src/segments/rules";
import { uid, countEverywhere } from "../helpers";

const event = (userId: string, name: string): StoredEvent => ({ messageId: crypto.randomUUID(), type: "track", userId, event: name, properties: {}, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" });
const countOf = (sql: string, ...binds: unknown[]) => countEverywhere(sql, ...binds);

async function planned(events: StoredEvent[]) {
  const now = Date.now();
  const resolved = await resolveEvents(env, events, now);
  const stored = await storeEvents(env, resolved);
  const context: PlanContext = { rules: rulesOf([]), normalize: {}, now, stored, derived: new Set(), triggers: [], redelivered: false, audience: [] };
  return { now, resolved, plan: planCommit(resolved, context) };
}

describe("commitPlan", () => {
  it("writes the customer, its identity and its object's watermark in one batch, and the events count as applied", async () => {
    const userId = uid();
    const events = [event(userId, "Viewed"), event(userId, "Added")];
    const { now, resolved, plan } = await planned(events);
    expect(await commitPlan(env, plan, resolved, now)).toBeGreaterThan(0);
    const customerId = plan.writes[0]!.customerId;
    expect(await countOf("SELECT count(*) AS n FROM customers WHERE id = ?", customerId)).toBe(1);
    expect(await countOf("SELECT count(*) AS n FROM identities WHERE key = ? AND customer_id = ?", `user_id:${userId}`, customerId)).toBe(1);
    const again = await storeEvents(env, await resolveEvents(env, events, Date.now()));
    expect(again.fresh.get(customerId)).toEqual([]);
  });

  it("writes nothing and says so when the plan is empty", async () => {
    const { now, resolved, plan } = await planned([]);
    expect(await commitPlan(env, plan, resolved, now)).toBe(0);
  });

  it("aborts the whole batch when another writer changed the customer since it was read; its events reach the profile once", async () => {
    const userId = uid();
    await planned([event(userId, "First")]).then(({ now, resolved, plan }) => commitPlan(env, plan, resolved, now));
    const late = event(userId, "Late");
    const stale = await planned([late]);
    const winner = await planned([event(userId, "Winner")]);
    await commitPlan(env, winner.plan, winner.resolved, winner.now);
    const error = await commitPlan(env, stale.plan, stale.resolved, stale.now).catch((e: unknown) => e);
    expect(isWriteConflict(error)).toBe(true);
    // The stale attempt stored "Late" in the object before the winner asked, so the winner's
    // commit applied it: counted once, and answered to nobody again.
    const customerId = winner.plan.writes[0]!.customerId;
    expect((await loadProfile(shards(env), customerId))!.state.counters.events).toEqual({ First: 1, Late: 1, Winner: 1 });
    const after = await storeEvents(env, await resolveEvents(env, [late], Date.now()));
    expect(after.fresh.get(customerId)).toEqual([]);
  });
});
