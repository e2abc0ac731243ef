// Third-party enrichment: a company-data service (test/enrichment-server.ts, a real HTTP server
// on 127.0.0.1) looked up by email domain from the pipeline's jobs: answers cached, calls within a
// timeout and a budget, failures retried later, enriched traits marked and never over the
// customer's own values.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { mergeStates } from "../../src/profiles/merge";
import { EnricherDefinition } from "../../src/enrichment/definition";
import { enricherSourceId } from "../../src/model/events";
import { enrichmentRequests } from "../../src/enrichment/request";
import { cacheKey, MAX_ATTEMPTS } from "../../src/enrichment/job";
import { runEnrichJob } from "../../src/jobs/enrich";
import type { StoredEnricher } from "../../src/enrichment/store";
import type { Identity } from "../../src/model/identity";
import { admin, api, bearer, eventually, ingest, KEYS, profileWhen, uid } from "../helpers";

const COMPANIES = {
  name: "Company data",
  url: `${env.TEST_ENRICHER_URL}/companies?domain={key}`,
  headers: { Authorization: { secret: "ENRICH_API_KEY", prefix: "Bearer " } },
  traits: { company: "name", industry: "category.industry", employees: "metrics.employees" },
  timeoutMs: 300,
  budgetPerBatch: 3,
  consentCategory: "personalization",
};

const calls = async (): Promise<Record<string, number>> => (await fetch(`${env.TEST_ENRICHER_URL}/calls`)).json();

async function withEnricher(): Promise<void> {
  const res = await admin("/v1/enrichers/companies", { method: "PUT", body: JSON.stringify(COMPANIES) });
  expect([200, 201]).toContain(res.status);
}

const identify = (userId: string, traits: Record<string, unknown>, extra: Record<string, unknown> = {}) => ingest("/v1/identify", { userId, traits, ...extra });

describe("Enrichment from a third-party service", () => {
  it("adds the service's traits, marked with their source, and keeps the customer's own", async () => {
    await withEnricher();
    const domain = `${uid("d")}.acme.test`;
    const userId = uid("ada");
    expect((await identify(userId, { email: `ada@${domain}`, firstName: "Ada", company: "ACME Europe" })).status).toBe(200);
    const profile = await profileWhen(userId, (p) => p.traits.industry !== undefined);
    expect(profile.traits).toMatchObject({ firstName: "Ada", company: "ACME Europe", industry: "Retail", employees: 120 });
    // The answer is not the customer's activity: no event counted, last seen unchanged.
    expect(profile.eventCount).toBe(1);
    expect(profile.lastSeenAt).toBe(profile.firstSeenAt);
    // Only what the service supplied is marked; the customer's company is theirs.
    expect(profile.traitSources).toEqual({ industry: "enricher:companies", employees: "enricher:companies" });
    // The answer came through the pipeline as an identify of the enricher's source.
    const events = (await (await api(`/v1/customers/${userId}/events`, { headers: { authorization: bearer(KEYS.read) } })).json<{ events: StoredEvent[] }>()).events;
    const enriched = events.find((e) => e.sourceId === enricherSourceId("companies"))!;
    expect(enriched.context).toMatchObject({ enrichment: { enricher: "companies", key: domain, status: "found" }, enrichedBy: { traits: "enricher:companies" } });

    // An own value sent later with an older time still beats the enriched one.
    await identify(userId, { industry: "Fashion" }, { timestamp: new Date(Date.now() - 86_400_000).toISOString() });
    const corrected = await profileWhen(userId, (p) => p.traits.industry === "Fashion");
    expect(corrected.traitSources).toEqual({ employees: "enricher:companies" });

    // A second customer of the same company is answered from the cache: one call for the domain.
    const bob = uid("bob");
    await identify(bob, { email: `bob@${domain}` });
    await profileWhen(bob, (p) => p.traits.company === "Acme");
    expect((await calls())[domain]).toBe(1);
  });

  it("asks once per customer and key: an unknown domain is remembered, free mail and refused consent are not sent", async () => {
    await withEnricher();
    const unknown = `${uid("nobody")}.test`;
    const userId = uid("u");
    await identify(userId, { email: `u@${unknown}` });
    await eventually(async () => (await calls())[unknown] === 1, "the lookup of the unknown domain");
    await eventually(async () => {
      const res = await api(`/v1/customers/${userId}/events`, { headers: { authorization: bearer(KEYS.read) } });
      return (await res.json<{ events: StoredEvent[] }>()).events.some((e) => (e.context?.enrichment as { status?: string } | undefined)?.status === "not_found");
    }, "the not-found answer recorded");
    // More events of the customer: no new lookup (the profile remembers it asked).
    await ingest("/v1/track", { userId, event: "Product Viewed", properties: { product_id: "p1" } });
    const free = uid("free");
    await identify(free, { email: `${free}@gmail.com` });
    const refused = uid("private");
    const privateDomain = `${uid("p")}.acme.test`;
    await identify(refused, { email: `x@${privateDomain}` }, { context: { consent: { categoryPreferences: { personalization: false } } } });
    await profileWhen(refused, () => true);
    await profileWhen(free, () => true);
    await new Promise((r) => setTimeout(r, 500));
    const seen = await calls();
    expect(seen[unknown]).toBe(1);
    expect(seen["gmail.com"]).toBeUndefined();
    expect(seen[privateDomain]).toBeUndefined();
  });

  it("never holds events up: a slow service times out and is retried later, a failing one until it answers", async () => {
    await withEnricher();
    const slow = `slow-${uid("s")}.test`;
    const flaky = `flaky-${uid("f")}.test`;
    const a = uid("a");
    const b = uid("b");
    await ingest("/v1/batch", { batch: [{ type: "identify", userId: a, traits: { email: `a@${slow}`, firstName: "A" } }, { type: "identify", userId: b, traits: { email: `b@${flaky}`, firstName: "B" } }] });
    // The profiles are there at once, whatever the service does.
    expect((await profileWhen(a, (p) => p.traits.firstName === "A")).traits.company).toBeUndefined();
    // 503, then 429 with Retry-After, then an answer.
    const flakyProfile = await profileWhen(b, (p) => p.traits.industry === "Logistics");
    expect(flakyProfile.traitSources.company).toBe("enricher:companies");
    expect((await calls())[flaky]).toBe(3);
    // The slow one is tried MAX_ATTEMPTS times, each cut at the timeout, then left for a later batch.
    await eventually(async () => (await calls())[slow] === MAX_ATTEMPTS, "every attempt at the slow service", 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await calls())[slow]).toBe(MAX_ATTEMPTS);
    expect((await profileWhen(a, () => true)).traits.company).toBeUndefined();
  });

  it("calls at most budgetPerBatch times per job and passes the rest to the next job", async () => {
    await withEnricher();
    const items = Array.from({ length: 5 }, (_, i) => ({ customerId: `cus_budget_${i}`, key: `${uid(`b${i}`)}.initech.test`, userId: uid(`budget${i}`) }));
    const outcome = await runEnrichJob(env, { v: 1, kind: "enrich", enricherId: "companies", items, attempt: 1 });
    expect(outcome).toEqual({ answered: 3, lookups: 3, deferred: 2, failed: 0 });
    // The next job (sent to the jobs queue) answers the other two.
    for (const item of items) await profileWhen(item.userId, (p) => p.traits.company === "Initech");
    const seen = await calls();
    for (const item of items) expect(seen[item.key]).toBe(1);
  });
});

describe("Enrichment and erasure", () => {
  it("erasing a customer deletes what an email-keyed enricher cached about them", async () => {
    expect((await admin("/v1/enrichers/people", { method: "PUT", body: JSON.stringify({ ...COMPANIES, name: "People data", key: "email", url: `${env.TEST_ENRICHER_URL}/companies?domain={key}` }) })).status).toBe(201);
    try {
      const userId = uid("erase");
      const email = `${userId}@x.acme.test`;
      await identify(userId, { email });
      await profileWhen(userId, (p) => p.traitSources?.company === "enricher:people");
      const people = (await (await admin("/v1/enrichers/people")).json()) as { version: number };
      const key = await cacheKey({ id: "people", version: people.version, definition: EnricherDefinition.parse(COMPANIES), createdAt: 0, updatedAt: 0 }, email);
      expect(await env.PROFILES.get(key)).not.toBeNull();
      expect((await admin(`/v1/customers/${userId}`, { method: "DELETE" })).status).toBe(200);
      expect(await env.PROFILES.get(key)).toBeNull();
    } finally {
      await admin("/v1/enrichers/people", { method: "DELETE" });
    }
  });
});

describe("The enricher API", () => {
  it("refuses a definition without {key} in the URL, naming the field, and tests a lookup on demand", async () => {
    const bad = await admin("/v1/enrichers/bad", { method: "PUT", body: JSON.stringify({ ...COMPANIES, url: "https://api.example.com/companies" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ errors: { field: string }[] }>()).errors[0]!.field).toBe("url");
    await withEnricher();
    const test = await admin("/v1/enrichers/companies/test", { method: "POST", body: JSON.stringify({ key: "x.globex.test" }) });
    // A null in the answer is left out.
    expect(await test.json()).toMatchObject({ status: "found", traits: { company: "Globex", industry: "Energy" } });
    const noSecret = await admin("/v1/enrichers/nosecret", { method: "PUT", body: JSON.stringify({ ...COMPANIES, headers: { Authorization: { secret: "MISSING_SECRET" } } }) });
    expect(noSecret.status).toBe(201);
    const failed = await (await admin("/v1/enrichers/nosecret/test", { method: "POST", body: JSON.stringify({ key: "acme.test" }) })).json<{ status: string; reason: string }>();
    expect(failed).toMatchObject({ status: "failed", reason: expect.stringContaining("MISSING_SECRET") });
    expect((await admin("/v1/enrichers/nosecret", { method: "DELETE" })).status).toBe(204);
    expect((await admin("/v1/enrichers/nosecret")).status).toBe(404);
    expect((await api("/v1/enrichers", { headers: { authorization: bearer(KEYS.read) } })).status).toBe(401);
  });
});

describe("Own values against enriched ones (pure)", () => {
  const own = (id: string, t: number, value: string): StoredEvent => ({ messageId: id, type: "identify", userId: "u", traits: { company: value }, timestamp: new Date(t).toISOString(), receivedAt: new Date(t).toISOString(), sourceId: "key_web" });
  const enriched = (id: string, t: number, value: string): StoredEvent => ({ ...own(id, t, value), sourceId: enricherSourceId("companies"), context: { enrichment: { key: "acme.test" } } });

  it("whatever the order of events and merges, the newest own value wins, else the newest enriched one", () => {
    const event = fc.record({ enriched: fc.boolean(), t: fc.integer({ min: 0, max: 1_000 }), v: fc.constantFrom("a", "b", "c", "d") });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 8 }), (specs, cut) => {
        const events = specs.map((s, i) => (s.enriched ? enriched : own)(`m${i}`, s.t, s.v));
        const inOrder = applyEvents(emptyProfile(), events);
        const reversed = applyEvents(emptyProfile(), [...events].reverse());
        // Two profiles of one person merged: the same answer.
        const merged = mergeStates(applyEvents(emptyProfile(), events.slice(cut)), applyEvents(emptyProfile(), events.slice(0, cut)));
        const owns = events.filter((e) => e.sourceId === "key_web");
        const pool = owns.length > 0 ? owns : events;
        const expected = [...pool].sort((x, y) => Date.parse(y.timestamp) - Date.parse(x.timestamp) || (y.messageId > x.messageId ? 1 : -1))[0]!.traits!.company;
        for (const state of [inOrder, reversed, merged]) {
          expect(state.traits.company).toBe(expected);
          expect(state.traitTimes.company![2] !== undefined).toBe(owns.length === 0);
        }
      }),
    );
  });

  it("asks again when the email domain changes or the refresh period has passed, not before", () => {
    const enricher: StoredEnricher = { id: "companies", version: 1, definition: EnricherDefinition.parse(COMPANIES), createdAt: 0, updatedAt: 0 };
    const ids: Identity[] = [{ key: "user_id:u", kind: "user_id", value: "u" }];
    const now = Date.parse("2026-11-24T12:00:00Z");
    const state = (email: string, looked?: [string, number]) => ({ ...emptyProfile(), traits: { email }, ...(looked ? { enrichment: { companies: looked } } : {}) });
    const ask = (email: string, looked?: [string, number]) => enrichmentRequests(enricher, [{ customerId: "c", state: state(email, looked), identities: ids }], now);
    expect(ask("a@acme.test")).toEqual([{ customerId: "c", key: "acme.test", userId: "u" }]);
    expect(ask("a@acme.test", ["acme.test", now - 86_400_000])).toEqual([]);
    expect(ask("a@globex.test", ["acme.test", now - 86_400_000])).toHaveLength(1);
    expect(ask("a@acme.test", ["acme.test", now - 31 * 86_400_000])).toHaveLength(1);
    expect(ask("a@hotmail.co.uk")).toEqual([]);
  });
});
