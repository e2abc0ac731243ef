import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { identity } from "../../src/model/identity";
import { resolveGroups } from "../../src/identity/resolve";
import { DEFAULT_IDENTITY_RULES, parseLimits, parsePriority } from "../../src/model/identity-rules";

const ev = (p: Partial<StoredEvent>): StoredEvent => ({ messageId: crypto.randomUUID(), type: "identify", timestamp: "2026-01-01T00:00:00Z", receivedAt: "2026-01-01T00:00:00Z", sourceId: "k", ...p });
let minted = 0;
const mint = () => `cus_new_${++minted}`;

describe("configurable identity rules", () => {
  it("refuses a second email when profiles may hold one, and records why", () => {
    const owners = new Map([["email:a@x.example", "cus_1"]]);
    const held = new Map([["cus_1", [identity("email", "a@x.example"), identity("anonymous_id", "an1")]]]);
    const events = [ev({ anonymousId: "an1", traits: { email: "b@x.example" } })];
    owners.set("anonymous_id:an1", "cus_1");
    const strict = resolveGroups(events, owners, held, mint, {}, new Set(), { limits: { user_id: 1, email: 1 }, priority: DEFAULT_IDENTITY_RULES.priority });
    // cus_1 is not given the second email. The email outranks the anonymousId that linked the
    // event to cus_1, so it is a new person's: a new profile, and the device's id stays put.
    expect(strict.groups).toHaveLength(1);
    expect(strict.groups[0]!.customerId).not.toBe("cus_1");
    expect(strict.groups[0]!.isNew).toBe(true);
    expect(strict.groups[0]!.newIdentities.map((i) => i.key)).toEqual(["email:b@x.example"]);
    expect(strict.groups[0]!.conflicts).toEqual([{ identity: expect.objectContaining({ key: "anonymous_id:an1" }), ownerId: "cus_1" }]);
    expect(strict.refusals).toEqual([expect.objectContaining({ rule: "limit:email", customerIds: ["cus_1"], keys: ["anonymous_id:an1", "email:b@x.example"] })]);
    const lenient = resolveGroups(events, owners, held, mint);
    expect(lenient.groups[0]!.newIdentities.map((i) => i.key)).toEqual(["email:b@x.example"]);
  });

  it("picks the survivor of a merge by the configured priority", () => {
    const owners = new Map([
      ["phone:+33612345678", "cus_phone"],
      ["email:a@x.example", "cus_email"],
    ]);
    const held = new Map([
      ["cus_phone", [identity("phone", "+33612345678")]],
      ["cus_email", [identity("email", "a@x.example")]],
    ]);
    const events = [ev({ anonymousId: "z", traits: { email: "a@x.example", phone: "+33612345678" } })];
    expect(resolveGroups(events, owners, held, mint).groups[0]!.customerId).toBe("cus_email");
    const phoneFirst = { limits: {}, priority: parsePriority("phone,email") };
    const result = resolveGroups(events, owners, held, mint, {}, new Set(), phoneFirst);
    expect(result.groups[0]!.customerId).toBe("cus_phone");
    expect(result.groups[0]!.merges.map((m) => m.customerId)).toEqual(["cus_email"]);
  });

  it("parses the wrangler.toml variables, and says what is wrong with a bad one", () => {
    expect(parseLimits("user_id=1, email=3")).toEqual({ user_id: 1, email: 3 });
    expect(() => parseLimits("userid=1")).toThrow(/userid=1/);
    expect(() => parseLimits("email=0")).toThrow(/positive/);
    expect(parsePriority("email,user_id")).toEqual(["email", "user_id", "anonymous_id", "phone", "external"]);
    expect(() => parsePriority("email,fax")).toThrow(/fax/);
  });
});
