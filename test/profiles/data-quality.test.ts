import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, bearer, eventually, ingest, KEYS, uid } from "../helpers";

const now = () => new Date().toISOString();

describe("data-quality report", () => {
  it("counts refused messages by reason, traits that could not be normalized, and profile completeness", async () => {
    await ingest("/v1/track", { userId: "x" });
    await ingest("/v1/batch", { batch: [{ type: "teleport", userId: "x" }] });
    const a = uid();
    const b = uid();
    await processEvents(env, [
      { type: "identify", userId: a, messageId: uid("m"), timestamp: now(), receivedAt: now(), sourceId: "t", traits: { email: `${a}@example.com`, firstName: "A", phone: "not a phone" } },
      { type: "identify", userId: b, messageId: uid("m"), timestamp: now(), receivedAt: now(), sourceId: "t", traits: { country: "Atlantis" }, context: { consent: { categoryPreferences: { Email: true } } } },
      { type: "page", anonymousId: uid("anon"), messageId: uid("m"), timestamp: now(), receivedAt: now(), sourceId: "t" },
    ]);
    const report = await eventually(async () => {
      const r = (await (await admin("/v1/admin/data-quality")).json()) as any;
      return r.quarantine.some((q: any) => q.reason === "invalid_type") && r.quarantine.some((q: any) => q.reason === "validation_failed") ? r : null;
    }, "quarantine counted");
    expect(report.traitIssues).toEqual(expect.arrayContaining([{ trait: "phone", reason: "phone_invalid", profiles: 1 }, { trait: "country", reason: "country_unknown", profiles: 1 }]));
    expect(report.completeness).toMatchObject({ profiles: 3, withUserId: 2, withEmail: 1, withPhone: 0, withFirstName: 1, withConsent: 1 });
  });

  it("needs an admin key", async () => {
    expect((await api("/v1/admin/data-quality", { headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
  });
});
