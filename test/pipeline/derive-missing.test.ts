/** Profiles stored before a derived field existed get it from all their stored events, once. */
import { env } from "cloudflare:workers";
import { shards } from "../../src/db/shards";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { deriveMissing } from "../../src/pipeline/derive-missing";
import { processEvents } from "../../src/pipeline/process";
import { loadProfiles } from "../../src/profiles/store";
import { rulesOf } from "../../src/segments/rules";
import { ownerOf, uid } from "../helpers";

const order = (userId: string, total: number): StoredEvent => ({ messageId: crypto.randomUUID(), type: "track", userId, event: "Order Completed", properties: { total }, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test" });

describe("deriveMissing", () => {
  it("rebuilds computed traits a profile lacks from its stored events, and leaves complete profiles alone", async () => {
    const [lacking, complete] = [uid(), uid()];
    await processEvents(env, [order(lacking, 30), order(lacking, 12), order(complete, 5)]);
    const ids = [(await ownerOf(`user_id:${lacking}`))!, (await ownerOf(`user_id:${complete}`))!];
    const profiles = await loadProfiles(shards(env), ids, { events: "summary" });
    const expected = profiles.get(ids[0]!)!.state.computed;
    profiles.get(ids[0]!)!.state.computed = undefined as never;
    const derived = await deriveMissing(env, profiles, rulesOf([]));
    expect(derived).toEqual(new Set([ids[0]]));
    expect(profiles.get(ids[0]!)!.state.computed).toEqual(expected);
    expect(expected).toMatchObject({ orders: 2 });
  });
});
