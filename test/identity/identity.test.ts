import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { getCustomer, ingest, profileWhen, uid } from "../helpers";

const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({ messageId: crypto.randomUUID(), timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: "key_test", ...p });

describe("normalized profiles", () => {
  it("stores normalized traits, keeps what cannot be normalized as sent, and flags it", async () => {
    const userId = uid();
    await ingest("/v1/identify", { userId, traits: { first_name: "  Grace   Brewster ", Email: " Grace@Example.COM", phone: "+44 20 7946 0958", country: "United Kingdom", birthday: "1906-12-09", website: "x" } });
    const profile = await profileWhen(userId, () => true);
    expect(profile.traits).toEqual({ firstName: "Grace Brewster", email: "grace@example.com", phone: "+442079460958", country: "GB", birthday: "1906-12-09", website: "x" });
    expect(profile.traitIssues).toEqual({});
    expect(profile.phone).toBe("+442079460958");

    await processEvents(env, [ev({ type: "identify", userId, traits: { phone: "call me maybe" } })]);
    const flagged = await profileWhen(userId, (p) => p.traitIssues.phone !== undefined);
    expect(flagged.traits.phone).toBe("call me maybe");
    expect(flagged.traitIssues).toEqual({ phone: "phone_invalid" });
    // The profile's phone stays the valid number it had as an identity.
    expect(flagged.phone).toBe("+442079460958");
  });

  it("finds customers by phone (any formatting) and by external id from context.externalIds", async () => {
    const userId = uid();
    const shopifyId = String(Math.floor(Math.random() * 1e9));
    await processEvents(env, [
      ev({ type: "identify", userId, traits: { phone: "+1 (415) 555-0132" }, context: { externalIds: [{ id: shopifyId, type: "shopify_customer_id", collection: "users", encoding: "none" }] } }),
    ]);
    const byUser = await profileWhen(userId, () => true);
    for (const ref of ["phone:+14155550132", `phone:${encodeURIComponent("+1 415-555-0132")}`, `external:shopify_customer_id:${shopifyId}`, `external:Shopify_Customer_Id:${shopifyId}`]) {
      const res = await getCustomer(decodeURIComponent(ref));
      expect(res.status, ref).toBe(200);
      expect(((await res.json()) as any).id).toBe(byUser.id);
    }
    expect(byUser.identities.externalIds).toEqual([{ type: "shopify_customer_id", id: shopifyId }]);
    expect(byUser.identities.phones).toEqual(["+14155550132"]);
  });

  it("joins an event that only carries an external id to the customer who has it", async () => {
    const userId = uid();
    const crmId = uid("crm");
    await processEvents(env, [ev({ type: "identify", userId, context: { externalIds: [{ id: crmId, type: "hubspot_id" }] } })]);
    await processEvents(env, [ev({ type: "track", anonymousId: uid("anon"), event: "Email Opened", context: { externalIds: [{ id: crmId, type: "hubspot_id" }] } })]);
    const profile = await profileWhen(userId, (p) => p.eventCount === 2);
    expect(profile.counters.events["Email Opened"]).toBe(1);
  });
});

describe("updates from systems of record", () => {
  it("never lets an older version of a CRM record overwrite a newer value, whatever the arrival order", async () => {
    const userId = uid();
    const sent = new Date().toISOString();
    // Version 2 of the record (updated at 10:05) arrives first; version 1 (10:00) is delivered late,
    // with a later event time: the record time decides.
    await processEvents(env, [ev({ type: "identify", userId, timestamp: sent, traits: { plan: "gold" }, context: { sourceUpdatedAt: "2026-05-01T10:05:00Z" } })]);
    await processEvents(env, [ev({ type: "identify", userId, timestamp: new Date(Date.now() + 60_000).toISOString(), traits: { plan: "silver", region: "EU" }, context: { sourceUpdatedAt: "2026-05-01T10:00:00Z" } })]);
    const profile = await profileWhen(userId, (p) => p.eventCount === 2);
    expect(profile.traits).toEqual({ plan: "gold", region: "EU" });
    expect(profile.traitsUpdatedAt.plan).toBe("2026-05-01T10:05:00.000Z");
  });
});
