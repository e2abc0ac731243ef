import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { type Assignment, assign, bucketOf } from "../../src/experiments/assignment";
import type { ExperimentInput } from "../../src/experiments/definition";
import { banditWeightsKey, type ExperimentTally, type PublishedWeights, tallyStub } from "../../src/experiments/tally";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { admin, api, env, eventually, ingest, profileWhen, uid } from "../helpers";
import { fetchUrl, forgetCatalogCache, linksOf, putBlock, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

const keyOf = (a: Assignment) => (a.holdout ? "holdout" : a.key);

const image = (letter: string) => ({
  width: 200,
  height: 60,
  svg: `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><text x="10" y="40">${letter} {{ experiment.slots.subject }}</text></svg>`,
  fallbackSvg: `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"></svg>`,
});
const blockA = { html: "<p>A: {{ experiment.slots.subject }} ({{ experiment.variant }})</p>", image: image("A"), fallback: "<p>everyone</p>" };
const blockB = { html: "<p>B: {{ experiment.slots.subject }}</p>", image: image("B"), fallback: "<p>everyone</p>" };

async function putExperiment(id: string, definition: ExperimentInput, ifMatch?: number): Promise<Response> {
  return admin(`/v1/experiments/${id}`, { method: "PUT", body: JSON.stringify(definition), ...(ifMatch ? { headers: { "if-match": `"${ifMatch}"` } } : {}) });
}

/** Two published blocks and an experiment splitting the first between them. */
async function setUp(over: Partial<ExperimentInput> = {}) {
  const a = uid("hero");
  const b = uid("hero-b");
  expect((await putBlock(a, blockA)).status).toBe(201);
  expect((await putBlock(b, blockB)).status).toBe(201);
  const id = uid("exp");
  const definition: ExperimentInput = {
    block: a,
    variants: [
      { key: "control", slots: { subject: "Your picks" } },
      { key: "b", block: b, slots: { subject: "Picked for you, today" } },
    ],
    status: "running",
    minSamplePerArm: 10,
    ...over,
  };
  const res = await putExperiment(id, definition);
  expect(res.status, await res.clone().text()).toBe(201);
  return { a, b, id, definition };
}

const results = async (id: string) => (await (await admin(`/v1/experiments/${id}/results`)).json()) as Record<string, any>;

describe("an experiment on a content block", () => {
  it("serves each customer their variant at send and open time, counts a person's first view once, and credits the order to it", async () => {
    const { a, id } = await setUp();
    const { userId } = await shopper();
    const { customerId, token } = await linksOf(a, userId);
    const expected = keyOf(assign({ id, variants: [{ key: "control", weight: 1 }, { key: "b", weight: 1 }] }, customerId));

    // Send time: the ESP fetches the HTML and the JSON with the subject line (not an exposure).
    const html = await fetchUrl(token.html);
    expect(html.headers.get("x-rapport-experiment")).toBe(id);
    expect(html.headers.get("x-rapport-variant")).toBe(expected);
    expect(await html.text()).toBe(expected === "b" ? "<p>B: Picked for you, today</p>" : "<p>A: Your picks (control)</p>");
    const json = (await (await fetchUrl(token.json)).json()) as { experiment: { variant: string; slots: { subject: string } } };
    expect(json.experiment).toMatchObject({ variant: expected, slots: { subject: expected === "b" ? "Picked for you, today" : "Your picks" } });

    // Machines open first: Apple's privacy proxy, a scanner, a HEAD request. None is an exposure.
    expect((await fetchUrl(token.svg, { "user-agent": "Mozilla/5.0" })).headers.get("x-rapport-variant")).toBe(expected);
    await fetchUrl(token.svg, { "user-agent": "Mozilla/5.0 (X11) AppleWebKit", "cf-connecting-ip": "17.58.101.7" });
    await fetchUrl(token.svg, { "user-agent": "Proofpoint URL Defense" });
    await api(new URL(token.svg).pathname + new URL(token.svg).search, { method: "HEAD" });
    const marker = uid("after-machines");
    await ingest("/v1/track", { userId, event: marker });
    const beforePerson = await profileWhen(userId, (p) => p.counters.events[marker] === 1);
    expect(beforePerson.experiments).toBeUndefined();

    // The person opens the email twice: one exposure, to the variant the ESP was given.
    const svg = await fetchUrl(token.svg, { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148" });
    expect(await svg.text()).toContain(expected === "b" ? "B Picked for you, today" : "A Your picks");
    await fetchUrl(token.svg);
    const exposed = await profileWhen(userId, (p) => p.experiments?.[id] !== undefined);
    expect(exposed.experiments[id].variant).toBe(expected);
    await ingest("/v1/track", { userId, event: "Order Completed", properties: { order_id: uid("o"), revenue: 30 } });
    const marker2 = uid("after-order");
    await ingest("/v1/track", { userId, event: marker2 });
    const after = await profileWhen(userId, (p) => p.counters.events[marker2] === 1);
    expect(after.counters.events["Experiment Viewed"]).toBe(1);

    const r = await eventually(async () => {
      const body = await results(id);
      return body.variants.find((v: { variant: string; conversions: number }) => v.variant === expected && v.conversions === 1) ? body : null;
    }, "the order in the results");
    const mine = r.variants.find((v: { variant: string }) => v.variant === expected);
    expect(mine).toMatchObject({ exposures: 1, conversions: 1, conversionRate: 1, revenuePerExposed: 30 });
    expect(r.variants.find((v: { variant: string }) => v.variant !== expected).exposures).toBe(0);
    expect(r.decision.state).toBe("collecting");
    expect(r.primaryMetric).toBe("conversion");
  });

  it("sends a click where the customer's variant points, names the experiment on the click, and counts it as the exposure", async () => {
    const a = uid("grid");
    await putBlock(a, { html: "{% for p in products %}<a href='{{ p.click_url }}'>{{ p.name }}</a>{% endfor %}", products: { source: "recently_viewed", limit: 4 }, links: { fallbackUrl: "https://shop.example/all" } });
    const b = uid("grid-b");
    await putBlock(b, { html: "<p>popular</p>", products: { source: "cart", limit: 1 }, links: { fallbackUrl: "https://shop.example/all" } });
    const { userId } = await shopper();
    const { customerId, click } = await linksOf(a, userId);
    // A seed that puts this customer in variant b (the cart's desk), found the way the server assigns.
    const variants = [{ key: "control", weight: 1 }, { key: "b", weight: 1 }];
    const seed = Array.from({ length: 64 }, (_, i) => `s${i}`).find((s) => keyOf(assign({ id: "x", seed: s, variants }, customerId)) === "b")!;
    const id = uid("exp");
    expect((await putExperiment(id, { block: a, seed, variants: [{ key: "control" }, { key: "b", block: b }], status: "running" })).status).toBe(201);
    const res = await fetchUrl(click);
    expect(res.headers.get("location")).toBe("https://shop.example/desk");
    const profile = await profileWhen(userId, (p) => p.experiments?.[id] !== undefined && p.counters.events["Email Link Clicked"] === 1);
    expect(profile.experiments[id].variant).toBe("b");
    const r = await eventually(async () => {
      const body = await results(id);
      const row = body.variants.find((v: { variant: string }) => v.variant === "b");
      return row.exposures === 1 && row.clickRate === 1 ? body : null;
    }, "the click in the results");
    expect(r.variants[0].exposures).toBe(0);
  });

  it("serves the holdout the block's fallback and counts its exposures apart", async () => {
    const { userId } = await shopper();
    const a = uid("hero");
    await putBlock(a, blockA);
    const { customerId, token } = await linksOf(a, userId);
    const seed = Array.from({ length: 64 }, (_, i) => `h${i}`).find((s) => bucketOf(`${s}:holdout`, customerId) < 0.3)!;
    const id = uid("exp");
    expect((await putExperiment(id, { block: a, seed, holdout: 0.3, variants: [{ key: "control" }, { key: "b", slots: { subject: "x" } }], status: "running" })).status).toBe(201);
    const html = await fetchUrl(token.html);
    expect(html.headers.get("x-rapport-variant")).toBe("holdout");
    expect(await html.text()).toBe("<p>everyone</p>");
    await fetchUrl(token.svg);
    const profile = await profileWhen(userId, (p) => p.experiments?.[id] !== undefined);
    expect(profile.experiments[id].variant).toBe("holdout");
    const r = await eventually(async () => {
      const body = await results(id);
      return body.variants.find((v: { variant: string; exposures: number }) => v.variant === "holdout" && v.exposures === 1) ? body : null;
    }, "the holdout's exposure");
    expect(r.variants.map((v: { variant: string; expectedShare: number }) => [v.variant, v.expectedShare])).toEqual([
      ["control", 0.35],
      ["b", 0.35],
      ["holdout", 0.3],
    ]);
  });

  it("keeps every version: a save over someone else's is refused, and a rollback serves an old split again", async () => {
    const { a, id, definition } = await setUp({ status: "draft" });
    expect((await putExperiment(id, { ...definition, status: "running" }, 1)).status).toBe(200);
    // Saved by someone else meanwhile: version 2 exists, this save expected 1.
    const stale = await putExperiment(id, { ...definition, holdout: 0.5 }, 1);
    expect(stale.status).toBe(412);
    const shipped = await admin(`/v1/experiments/${id}/ship`, { method: "POST", body: JSON.stringify({ variant: "b" }) });
    expect(shipped.headers.get("etag")).toBe('"3"');
    const versions = (await (await admin(`/v1/experiments/${id}/versions`)).json()) as { versions: { version: number; definition: { status: string; winner?: string } }[] };
    expect(versions.versions.map((v) => [v.version, v.definition.status, v.definition.winner ?? null])).toEqual([
      [3, "running", "b"],
      [2, "running", null],
      [1, "draft", null],
    ]);
    const { userId } = await shopper();
    const { customerId, token } = await linksOf(a, userId);
    expect((await fetchUrl(token.html)).headers.get("x-rapport-variant")).toBe("b");
    // Back to version 2: the split runs again (saved as version 4).
    const back = await admin(`/v1/experiments/${id}/rollback`, { method: "POST", body: JSON.stringify({ version: 2 }) });
    expect(back.status).toBe(200);
    expect(((await back.json()) as { version: number; winner?: string }).version).toBe(4);
    expect((await fetchUrl(token.html)).headers.get("x-rapport-variant")).toBe(keyOf(assign({ id, variants: [{ key: "control", weight: 1 }, { key: "b", weight: 1 }] }, customerId)));
    expect((await admin(`/v1/experiments/${id}/rollback`, { method: "POST", body: JSON.stringify({ version: 9 }) })).status).toBe(404);
  });

  it("refuses experiments on blocks that are not published, and a second one on the same block", async () => {
    const { a, definition } = await setUp();
    const missing = await putExperiment(uid("exp"), { ...definition, variants: [{ key: "control" }, { key: "b", block: "no-such-block" }] });
    expect(missing.status).toBe(400);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(await missing.json())).toContain("variants[1].block");
    expect((await putExperiment(uid("exp"), { ...definition, block: a })).status).toBe(409);
    // A draft on the same block is fine: it serves nothing.
    expect((await putExperiment(uid("exp"), { ...definition, status: "draft" })).status).toBe(201);
  });
});

describe("the experiment's tally", () => {
  const row = (customerId: string, version: number, variant: string, conversions = 0, revenue = 0) => ({ customerId, version, variant, at: 1, conversions, revenue, clicks: 0, unsubscribes: 0, complaints: 0 });

  it("counts each customer once, whatever is retried, late or merged away", async () => {
    const stub = tallyStub(env, uid("tally"));
    await stub.record([row("c1", 1, "a"), row("c2", 1, "b")]);
    await stub.record([row("c1", 1, "a"), row("c2", 1, "b")]); // a retry
    await stub.record([row("c1", 3, "a", 1, 2500)]);
    await stub.record([row("c1", 2, "a")]); // late: an older version
    await stub.record([], ["c2"]); // merged into another customer
    const totals = await stub.totals();
    expect(totals.map((t) => [t.variant, t.exposed, t.converted, t.revenue, t.revenueSquares])).toEqual([
      ["a", 1, 1, 2500, 2500 * 2500],
      ["b", 0, 0, 0, 0],
    ]);
    // A customer whose earlier exposure turned up moves between variants, not into both.
    await stub.record([row("c1", 4, "b", 1, 2500)]);
    const moved = await runInDurableObject(stub, (o: ExperimentTally) => o.totals());
    expect(moved.map((t) => [t.variant, t.exposed, t.converted])).toEqual([
      ["a", 0, 0],
      ["b", 1, 1],
    ]);
  });
});

describe("decisions", () => {
  const many = (prefix: string, n: number, variant: string, converted: number) => Array.from({ length: n }, (_, i) => ({ customerId: `${prefix}${i}`, version: 1, variant, at: 1, conversions: i < converted ? 1 : 0, revenue: 0, clicks: 0, unsubscribes: 0, complaints: 0 }));

  it("ships a significant winner automatically, after which every customer gets it", async () => {
    const { a, id } = await setUp({ autoShip: true });
    await tallyStub(env, id).record([...many("c", 2000, "control", 200), ...many("v", 2000, "b", 320)]);
    const r = await results(id);
    expect(r.decision).toMatchObject({ state: "winner", winner: "b" });
    expect(r.action).toBe("shipped_winner");
    expect(r.winner).toBe("b");
    const { userId } = await shopper();
    const { token } = await linksOf(a, userId);
    const html = await fetchUrl(token.html);
    expect(html.headers.get("x-rapport-variant")).toBe("b");
    expect((await results(id)).decision.state).toBe("shipped");
  });

  it("pauses on a sample-ratio mismatch: everyone gets the control and nothing more is counted", async () => {
    const { a, id } = await setUp();
    await tallyStub(env, id).record([...many("c", 1000, "control", 100), ...many("v", 1300, "b", 130)]);
    const r = await results(id);
    expect(r.decision.state).toBe("srm");
    expect(r.action).toBe("paused_for_sample_ratio_mismatch");
    expect(r.status).toBe("paused");
    const { userId } = await shopper();
    const { token } = await linksOf(a, userId);
    const svg = await fetchUrl(token.svg);
    expect(svg.headers.get("x-rapport-variant")).toBe("control");
    const stored = (await (await admin(`/v1/experiments/${id}`)).json()) as { status: string; version: number };
    expect(stored).toMatchObject({ status: "paused", version: 2 });
  });

  it("ships a variant by hand", async () => {
    const { id } = await setUp();
    expect((await admin(`/v1/experiments/${id}/ship`, { method: "POST", body: JSON.stringify({ variant: "nope" }) })).status).toBe(400);
    const shipped = await admin(`/v1/experiments/${id}/ship`, { method: "POST", body: JSON.stringify({ variant: "b" }) });
    expect(shipped.status).toBe(200);
    expect(((await shipped.json()) as { winner: string }).winner).toBe("b");
  });
});

describe("exposures and outcomes through the pipeline", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();
  const exposure = (experiment: string, who: Record<string, string>, variant: string, s: number): StoredEvent => ({
    type: "track",
    event: "Experiment Viewed",
    messageId: `xv:${experiment}:${JSON.stringify(who)}`,
    timestamp: at(s),
    receivedAt: at(s),
    sourceId: "rapport-content",
    ...who,
    properties: { experiment_id: experiment, variation_id: variant, conversion_window_hours: 24 },
  });
  const order = (who: Record<string, string>, revenue: number, s: number): StoredEvent => ({ type: "track", event: "Order Completed", messageId: uid("o"), timestamp: at(s), receivedAt: at(s), sourceId: "key_test", ...who, properties: { revenue } });
  const tallied = async (experiment: string) => (await tallyStub(env, experiment).totals()).map((t) => [t.variant, t.exposed, t.converted, t.revenue]);

  it("tallies each customer once when a batch is delivered again", async () => {
    const experiment = uid("exp");
    const who = { userId: uid() };
    const batch = [exposure(experiment, who, "b", 1), order(who, 20, 2)];
    await processEvents(env, batch);
    await processEvents(env, batch, { redelivered: true });
    expect(await tallied(experiment)).toEqual([["b", 1, 1, 2000]]);
  });

  it("forgets an erased customer's rows", async () => {
    const experiment = uid("exp");
    const who = { userId: uid() };
    await processEvents(env, [exposure(experiment, who, "b", 1), order(who, 20, 2)]);
    expect(await tallied(experiment)).toEqual([["b", 1, 1, 2000]]);
    expect((await admin(`/v1/customers/${who.userId}`, { method: "DELETE" })).status).toBe(200);
    expect(await tallied(experiment)).toEqual([["b", 0, 0, 0]]);
  });

  it("keeps one record when two exposed customers turn out to be one person", async () => {
    const experiment = uid("exp");
    const userId = uid();
    const anonymousId = uid("anon");
    await processEvents(env, [exposure(experiment, { userId }, "control", 1)]);
    await processEvents(env, [exposure(experiment, { anonymousId }, "b", 2), order({ anonymousId }, 15, 3)]);
    expect(await tallied(experiment)).toEqual([
      ["b", 1, 1, 1500],
      ["control", 1, 0, 0],
    ]);
    await processEvents(env, [{ type: "identify", userId, anonymousId, messageId: uid("m"), timestamp: at(4), receivedAt: at(4), sourceId: "key_test" }]);
    // The first exposure stands (control), with the order the other profile brought.
    expect(await tallied(experiment)).toEqual([
      ["b", 0, 0, 0],
      ["control", 1, 1, 1500],
    ]);
  });
});

describe("bandits", () => {
  const many = (prefix: string, n: number, variant: string, converted: number) => Array.from({ length: n }, (_, i) => ({ customerId: `${prefix}${i}`, version: 1, variant, at: 1, conversions: i < converted ? 1 : 0, revenue: 0, clicks: 0, unsubscribes: 0, complaints: 0 }));
  const published = async (id: string) => env.PROFILES.get<PublishedWeights>(banditWeightsKey(id), "json");

  it("steers new customers to the arm that is winning, at most once per interval, and keeps the exposed where they were", async () => {
    const { a, id } = await setUp({ bandit: { burnInPerArm: 100, floor: 0, updateSeconds: 3600 } });
    // Saved as a bandit: the even split is written at once.
    expect((await published(id))?.weights).toEqual({ control: 0.5, b: 0.5 });
    const { userId } = await shopper();
    const { customerId, token } = await linksOf(a, userId);
    // A customer exposed during the even split (seen as whichever arm the hash gave them).
    const before = (await fetchUrl(token.svg)).headers.get("x-rapport-variant");
    await profileWhen(userId, (p) => p.experiments?.[id] !== undefined);

    const stub = tallyStub(env, id);
    await stub.record([...many("c", 200, "control", 10), ...many("v", 200, "b", 60)]);
    // Within the interval: nothing written yet (the customer's own exposure may have been), an alarm set for its end.
    expect((await published(id))?.exposures).toBeLessThanOrEqual(1);
    await runDurableObjectAlarm(stub);
    const split = (await published(id))!;
    // The 400 recorded here, and the customer exposed above once the pipeline's call has landed.
    expect(split.exposures).toBeGreaterThanOrEqual(400);
    expect(split.weights.b).toBe(1);

    const r = await results(id);
    expect(r.bandit.probabilityBest.b).toBeGreaterThan(0.99);
    expect(r.bandit.weights).toEqual(split.weights);
    expect(r.bandit.regret).toBeGreaterThan(0);
    expect(r.sampleRatio).toBeNull();
    expect(r.decision).toMatchObject({ state: "winner", winner: "b" });
    expect(r.decision.rule).toContain("Thompson sampling");

    // Renders read the split with the manifest (refreshed here by a save): a new customer gets b.
    expect((await putExperiment(uid("other"), { block: a, variants: [{ key: "x" }, { key: "y" }] })).status).toBe(201);
    const other = await shopper();
    const fresh = await linksOf(a, other.userId);
    expect((await fetchUrl(fresh.token.html)).headers.get("x-rapport-variant")).toBe("b");
    // Someone already exposed keeps the variant they saw, whatever the split says now.
    expect((await fetchUrl(token.html)).headers.get("x-rapport-variant")).toBe(before);
    expect(before).toBe(keyOf(assign({ id, variants: [{ key: "control", weight: 1 }, { key: "b", weight: 1 }] }, customerId)));
  });
});

describe("dry run", () => {
  it("shows the split over stored customers before anything is served, consent respected", async () => {
    const a = uid("hero");
    await putBlock(a, blockA);
    const id = uid("exp");
    const variants = [
      { key: "control", weight: 3 },
      { key: "b", weight: 1 },
    ];
    expect((await putExperiment(id, { block: a, variants, holdout: 0.2 })).status).toBe(201);
    const now = Date.now();
    const people = Array.from({ length: 600 }, (_, i) => ({ type: "identify" as const, userId: uid("dry"), messageId: uid("m"), timestamp: new Date(now).toISOString(), receivedAt: new Date(now).toISOString(), sourceId: "key_test", traits: { n: i } }));
    const declined = { ...people[0]!, userId: uid("declined"), messageId: uid("m"), context: { consent: { categoryPreferences: { personalization: false } } } };
    await processEvents(env, [...people, declined]);
    const res = await admin(`/v1/experiments/${id}/dry-run?sample=10000`);
    expect(res.status).toBe(200);
    const run = (await res.json()) as { sampled: number; declined: number; variants: { variant: string; customers: number; share: number; expectedShare: number }[]; sampleRatio: { pValue: number }; examples: { customerId: string; variant: string }[] };
    expect(run.sampled).toBeGreaterThanOrEqual(601);
    expect(run.declined).toBeGreaterThanOrEqual(1);
    expect(run.variants.reduce((n, v) => n + v.customers, 0)).toBe(run.sampled - run.declined);
    expect(run.variants.map((v) => v.variant)).toEqual(["control", "b", "holdout"]);
    for (const [i, v] of run.variants.entries()) expect(v.expectedShare).toBeCloseTo([0.6, 0.2, 0.2][i]!, 10);
    expect(run.sampleRatio.pValue).toBeGreaterThan(0.001);
    // Each example is what a render would serve the customer.
    for (const ex of run.examples) expect(ex.variant).toBe(keyOf(assign({ id, variants, holdout: 0.2 }, ex.customerId)));
    // A draft: nothing was served meanwhile.
    const { userId } = await shopper();
    expect((await fetchUrl((await linksOf(a, userId)).token.html)).headers.get("x-rapport-variant")).toBeNull();
  });
});
