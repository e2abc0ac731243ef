import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { processEvents } from "../../src/pipeline/process";
import { emptyProfile, applyEvents } from "../../src/profiles/apply";
import { mergeStates } from "../../src/profiles/merge";
import { countAt, countSpec, distinctSpecs } from "../../src/profiles/aggregates";
import { Rule, SegmentDefinition } from "../../src/segments/definition";
import { EventCondition } from "../../src/model/rules";
import { holds } from "../../src/segments/evaluate";
import { runPassJob } from "../../src/jobs/segment-pass";
import { SEGMENT_RECIPES } from "../../src/segments/recipes";
import { admin, env, eventually, profileWhen, uid, dbOf, countEverywhere } from "../helpers";
import { customerIdOf, DAY, identifyAt, membersOf, putSegment, runFinished, saveSegmentAndWait, trackAt } from "../segment-helpers";
import { putTrigger, timersOf } from "../trigger-helpers";
import { fetchUrl, linksOf, putBlock } from "../content-helpers";

const NOW = Date.UTC(2026, 5, 15, 12);

describe("segment rules", () => {
  const state = (events: StoredEvent[], rules: Rule[]) => applyEvents(emptyProfile(), events, { aggregateSpecs: distinctSpecs(rules.flatMap((r) => ("event" in r ? [countSpec(r as EventCondition)] : []))) });

  it("compare traits, computed traits and event counts in windows, with all / any / not and other segments", () => {
    const bigOrders = EventCondition.parse({ event: "Order Completed", where: [{ property: "revenue", op: "gte", value: 100 }], atLeast: 2, withinDays: 30 });
    const noViews = EventCondition.parse({ event: "Product Viewed", atMost: 0, withinDays: 7 });
    const events = [
      identifyAt("u", { plan: "pro", address: { city: "Lyon" } }, NOW - 40 * DAY),
      trackAt("u", "Order Completed", { revenue: 150, currency: "EUR" }, NOW - 3 * DAY),
      trackAt("u", "Order Completed", { revenue: 120, currency: "EUR" }, NOW - 10 * DAY),
      trackAt("u", "Order Completed", { revenue: 20, currency: "EUR" }, NOW - 2 * DAY),
      trackAt("u", "Order Completed", { revenue: 500, currency: "EUR" }, NOW - 60 * DAY),
      trackAt("u", "Product Viewed", { product_id: "p" }, NOW - 9 * DAY),
    ];
    const s = state(events, [bigOrders, noViews]);
    const check = (rule: unknown, members: string[] = []) => holds(Rule.parse(rule), s, NOW, new Set(members));
    expect(check(bigOrders)).toBe(true);
    expect(check({ ...bigOrders, atLeast: 3 })).toBe(false);
    // Nine days later the order of 10 days ago has left the 30-day window.
    expect(holds(bigOrders, s, NOW + 21 * DAY, new Set())).toBe(false);
    expect(check(noViews)).toBe(true);
    expect(holds(noViews, s, NOW - 5 * DAY, new Set())).toBe(false);
    expect(check({ trait: "address.city", op: "eq", value: "Lyon" })).toBe(true);
    expect(check({ trait: "plan", op: "in", value: ["pro", "team"] })).toBe(true);
    expect(check({ trait: "missing", op: "not_exists" })).toBe(true);
    expect(check({ computed: "orderCount", op: "eq", value: 4 })).toBe(true);
    expect(check({ computed: "totalRevenue", op: "eq", value: 790 })).toBe(true);
    expect(check({ computed: "totalRevenue", currency: "USD", op: "gt", value: 0 })).toBe(false);
    expect(check({ computed: "averageOrderValue", op: "eq", value: 197.5 })).toBe(true);
    expect(check({ computed: "daysSinceLastOrder", op: "eq", value: 2 })).toBe(true);
    expect(check({ computed: "daysSinceFirstSeen", op: "eq", value: 60 })).toBe(true);
    expect(check({ all: [{ trait: "plan", op: "eq", value: "pro" }, { not: { segment: "vip" } }] })).toBe(true);
    expect(check({ all: [{ trait: "plan", op: "eq", value: "pro" }, { not: { segment: "vip" } }] }, ["vip"])).toBe(false);
    expect(check({ any: [{ trait: "plan", op: "eq", value: "free" }, { computed: "orderCount", op: "gte", value: 4 }] })).toBe(true);
  });

  it("refuse a malformed rule, naming the field", async () => {
    const res = await putSegment("broken", { rule: { all: [{ computed: "lifetimeLove", op: "gt", value: 1 }] } as never });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { errors: { field: string }[]; requestId: string };
    expect(body.errors[0]!.field).toMatch(/^rule/);
    expect(body.requestId).toBeTruthy();
    const window = await putSegment("broken", { rule: { event: "Order Completed", atLeast: 3, atMost: 1 } });
    expect(window.status).toBe(400);
  });

  it("refuse an incomplete or unknown condition, at save and at dry run, naming its path and what it expected", async () => {
    const problems = async (rule: unknown) => {
      const saved = await putSegment(uid("typo"), { rule } as never);
      const dry = await admin("/v1/segments/dry-run", { method: "POST", body: JSON.stringify({ rule }) });
      expect([saved.status, dry.status]).toEqual([400, 400]);
      const [a, b] = [(await saved.json()) as { errors: { field: string; message: string }[] }, (await dry.json()) as { errors: { field: string; message: string }[] }];
      expect(b.errors).toEqual(a.errors);
      return a.errors;
    };
    // `eq` with no value once matched every profile; `neq`, none.
    expect(await problems({ all: [{ trait: "a", op: "eq" }] })).toEqual([{ field: "rule.all[0].value", message: 'is required with op "eq"' }]);
    expect(await problems({ trait: "a", op: "neq" })).toEqual([{ field: "rule.value", message: 'is required with op "neq"' }]);
    expect(await problems({ any: [{ computed: "orderCount", op: "gte", value: "lots" }] })).toEqual([{ field: "rule.any[0].value", message: 'must be a number with op "gte"' }]);
    expect(await problems({ trait: "a", op: "in", value: "x" })).toEqual([{ field: "rule.value", message: 'must be a non-empty list with op "in"' }]);
    expect(await problems({ trait: "a", op: "exists", value: "x" })).toEqual([{ field: "rule.value", message: 'must be left out with op "exists" (it compares with nothing)' }]);
    const [unknownOp] = await problems({ not: { trait: "plan", op: "eqq", value: "pro" } });
    expect(unknownOp).toEqual({ field: "rule.not.op", message: expect.stringMatching(/^must be one of "eq", "neq", /) });
    expect(await problems({ event: "Order Completed", where: [{ property: "total", op: "gt" }] })).toEqual([{ field: "rule.where[0].value", message: 'is required with op "gt"' }]);
  });

  it("refuse a rule naming a missing segment or making a cycle", async () => {
    const missing = await putSegment(uid("seg"), { rule: { segment: "nobody-defined-this" } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: { field: string; message: string }[] }).errors[0]).toMatchObject({ field: "rule", message: expect.stringContaining("does not exist") });
    const a = uid("cyc-a");
    const b = uid("cyc-b");
    await saveSegmentAndWait(a, { rule: { trait: "cycle_test", op: "exists" } });
    await saveSegmentAndWait(b, { rule: { segment: a } });
    const cycle = await putSegment(a, { rule: { segment: b } });
    expect(cycle.status).toBe(400);
    expect(await cycle.text()).toContain("cycle");
    // And a segment another names cannot be deleted.
    const del = await admin(`/v1/segments/${a}`, { method: "DELETE" });
    expect(del.status).toBe(409);
  });

  it("ship the documented segments, valid", () => {
    expect(Object.keys(SEGMENT_RECIPES).sort()).toEqual(["at-risk", "high-value", "new-prospects", "vip"]);
    for (const d of Object.values(SEGMENT_RECIPES)) expect(SegmentDefinition.safeParse(d).success).toBe(true);
  });
});

describe("event counts kept incrementally", () => {
  const spec = countSpec(EventCondition.parse({ event: "Order Completed", where: [{ property: "total", op: "gt", value: 50 }], withinDays: 14 }));
  const allTime = countSpec(EventCondition.parse({ event: "Order Completed" }));
  const anOrder = fc.record({ day: fc.integer({ min: 0, max: 60 }), total: fc.integer({ min: 0, max: 100 }), name: fc.constantFrom("Order Completed", "Product Viewed") }).map(({ day, total, name }) => trackAt("u", name, { total }, NOW - day * DAY));

  it("equal a count from scratch, for any order, any split into batches and any merge", () => {
    fc.assert(
      fc.property(fc.array(anOrder, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (events, split, cut) => {
        const specs = [spec, allTime];
        const options = { aggregateSpecs: specs };
        const shuffled = [...events].sort((x, y) => x.messageId.localeCompare(y.messageId));
        const inBatches = applyEvents(applyEvents(emptyProfile(), shuffled.slice(0, split), options), shuffled.slice(split), options);
        const merged = mergeStates(applyEvents(emptyProfile(), events.slice(0, cut), options), applyEvents(emptyProfile(), events.slice(cut), options));
        const expected = events.filter((e) => e.event === "Order Completed" && (e.properties!.total as number) > 50 && Date.parse(e.timestamp) >= (Math.floor(NOW / DAY) - 14) * DAY).length;
        const orders = events.filter((e) => e.event === "Order Completed").length;
        for (const s of [inBatches, merged]) {
          expect(countAt(s.aggregates, spec, NOW)).toBe(expected);
          expect(countAt(s.aggregates, allTime, NOW)).toBe(orders);
        }
        expect(inBatches.aggregates).toEqual(merged.aggregates);
      }),
      { numRuns: 200 },
    );
  });
});

describe("real-time membership", () => {
  it("enters when an event makes the rule hold, shows in the profile, the member list, the size and the history, and starts triggers", async () => {
    const tag = uid("rt");
    const seg = uid("buyers");
    await saveSegmentAndWait(seg, { name: "Repeat buyers", rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { event: "Order Completed", atLeast: 2, withinDays: 30 }] } });
    // A trigger that starts when someone enters the segment.
    const trig = uid("welcome-vip");
    expect((await putTrigger(trig, { name: "Welcome to the segment", start: { event: "Segment Entered", where: [{ property: "segment_id", op: "eq", value: seg }] }, wait: { hours: 1 }, destination: { url: "http://127.0.0.1:9/x" } } as never)).status).toBeLessThan(300);
    const userId = uid("buyer");
    await processEvents(env, [identifyAt(userId, { cohort: tag }), trackAt(userId, "Order Completed", { revenue: 10 })]);
    const customerId = await customerIdOf(userId);
    expect(await membersOf(seg)).not.toContain(customerId);
    const stats = await processEvents(env, [trackAt(userId, "Order Completed", { revenue: 30 })]);
    expect(stats.segmentTransitions).toBe(1);
    expect(stats.segmentNotifications).toBe(1);
    expect(await membersOf(seg)).toEqual([customerId]);
    const profile = await profileWhen(userId, (p) => p.segments?.includes(seg));
    expect(profile.segments).toContain(seg);
    const segment = (await (await admin(`/v1/segments/${seg}`)).json()) as { size: number };
    expect(segment.size).toBe(1);
    const history = (await (await admin(`/v1/segments/${seg}/history?days=3`)).json()) as { days: { entered: number; size: number }[] };
    expect(history.days.at(-1)).toMatchObject({ entered: 1, size: 1 });
    // Content blocks see the membership.
    const block = uid("seg-block");
    expect((await putBlock(block, { html: `{% if customer.segments contains "${seg}" %}member{% else %}outsider{% endif %}` })).status).toBeLessThan(300);
    const links = await linksOf(block, userId);
    expect(await (await fetchUrl(links.token.html)).text()).toContain("member");
    const { timers } = await timersOf(customerId);
    expect(timers.map((t) => t.trigger_id)).toContain(trig);
    // A third order changes nothing about membership: no second entry.
    expect((await processEvents(env, [trackAt(userId, "Order Completed", { revenue: 5 })])).segmentTransitions).toBe(0);
    // A retried batch sends the recent entry again (its id repeats, so the timer is not doubled).
    const retried = await processEvents(env, [trackAt(userId, "Page Seen", {})], { redelivered: true });
    expect(retried.segmentNotifications).toBe(1);
    expect((await timersOf(customerId)).timers.filter((t) => t.trigger_id === trig)).toHaveLength(1);
    await admin(`/v1/triggers/${trig}`, { method: "DELETE" });
  });

  it("lists members a page at a time and exports them all as NDJSON", async () => {
    const tag = uid("page");
    const seg = uid("paged");
    await saveSegmentAndWait(seg, { rule: { trait: "cohort", op: "eq", value: tag } });
    const users = Array.from({ length: 5 }, () => uid("m"));
    await processEvents(env, users.map((u) => identifyAt(u, { cohort: tag, email: `${u}@example.com` })));
    const first = (await (await admin(`/v1/segments/${seg}/members?limit=2`)).json()) as { members: { customerId: string }[]; next: string };
    expect(first.members).toHaveLength(2);
    const second = (await (await admin(`/v1/segments/${seg}/members?limit=2&after=${first.next}`)).json()) as { members: { customerId: string }[] };
    expect(second.members[0]!.customerId > first.members[1]!.customerId).toBe(true);
    const res = await admin(`/v1/segments/${seg}/members/export`);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { email: string; userId: string });
    expect(lines.map((l) => l.userId).sort()).toEqual([...users].sort());
    expect(lines.every((l) => l.email === `${l.userId}@example.com`)).toBe(true);
  });

  it("leave without any event when the daily pass finds a window has passed", async () => {
    const tag = uid("active");
    const seg = uid("active30");
    await saveSegmentAndWait(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { event: "Product Viewed", withinDays: 30 }] } });
    const userId = uid("viewer");
    await processEvents(env, [identifyAt(userId, { cohort: tag }, Date.now() - 20 * DAY), trackAt(userId, "Product Viewed", { product_id: "p1" }, Date.now() - 20 * DAY)]);
    const customerId = await customerIdOf(userId);
    expect(await membersOf(seg)).toEqual([customerId]);
    // Fifteen days later: the view is 35 days old.
    const later = Date.now() + 15 * DAY;
    const runId = `run_test_${crypto.randomUUID()}`;
    await env.DB.prepare("INSERT INTO segment_runs (id, reason, started_at) VALUES (?1, 'test', ?2)").bind(runId, Date.now()).run();
    // One job goes through the pages for ten seconds: enough for every profile of the test database.
    await runPassJob(env, { v: 1, kind: "segment_pass", runId, after: "" }, later);
    expect(((await (await admin(`/v1/segments/runs/${runId}`)).json()) as { finishedAt: string | null }).finishedAt).not.toBeNull();
    expect(await membersOf(seg)).toEqual([]);
    const row = await dbOf(customerId).prepare("SELECT segments FROM customers WHERE id = ?1").bind(customerId).first<{ segments: string }>();
    expect(JSON.parse(row!.segments)[seg]).toEqual([0, later]);
    const history = (await (await admin(`/v1/segments/${seg}/history?days=3`)).json()) as { size: number };
    expect(history.size).toBe(0);
  });

  it("stop a pass that a later one supersedes (saving many segments costs one pass)", async () => {
    const [older, newer] = [`run_a_${crypto.randomUUID()}`, `run_b_${crypto.randomUUID()}`];
    const t = Date.now() + 3_600_000;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO segment_runs (id, reason, started_at) VALUES (?1, 'test', ?2)").bind(older, t),
      env.DB.prepare("INSERT INTO segment_runs (id, reason, started_at) VALUES (?1, 'test', ?2)").bind(newer, t + 1),
    ]);
    expect(await runPassJob(env, { v: 1, kind: "segment_pass", runId: older, after: "" })).toEqual({ profiles: 0, changed: 0 });
    const run = (await (await admin(`/v1/segments/runs/${older}`)).json()) as { supersededBy: string; finishedAt: string };
    expect(run).toMatchObject({ supersededBy: newer, finishedAt: expect.any(String) });
    // Out of the way of later tests' passes (which start earlier than these).
    await env.DB.prepare("DELETE FROM segment_runs WHERE id IN (?1, ?2)").bind(older, newer).run();
  });

  it("apply a new rule to profiles stored before it, deriving the event counts from their history", async () => {
    const tag = uid("late");
    const userId = uid("old");
    await processEvents(env, [identifyAt(userId, { cohort: tag }), trackAt(userId, "Wishlist Added", { sku: "a" }), trackAt(userId, "Wishlist Added", { sku: "b" })]);
    const customerId = await customerIdOf(userId);
    const seg = uid("wishers");
    const saved = await saveSegmentAndWait(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { event: "Wishlist Added", atLeast: 2 }] } });
    expect(await membersOf(seg)).toEqual([customerId]);
    // The dry run agrees, and changing the rule moves the member out.
    const dry = (await (await admin("/v1/segments/dry-run", { method: "POST", body: JSON.stringify({ rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { event: "Wishlist Added", atLeast: 3 }] } }) })).json()) as Record<string, unknown>;
    expect(dry).toMatchObject({ matched: 0, complete: true });
    const dryYes = (await (await admin("/v1/segments/dry-run", { method: "POST", body: JSON.stringify({ rule: { trait: "cohort", op: "eq", value: tag } }) })).json()) as Record<string, unknown>;
    expect(dryYes).toMatchObject({ matched: 1, sample: [customerId] });
    const res = await putSegment(seg, { rule: { all: [{ trait: "cohort", op: "eq", value: tag }, { event: "Wishlist Added", atLeast: 3 }] } }, { "if-match": `"${saved.version}"` });
    expect(res.status).toBe(200);
    await runFinished(((await res.json()) as { runId: string }).runId);
    expect(await membersOf(seg)).toEqual([]);
    const stale = await putSegment(seg, { rule: { trait: "cohort", op: "exists" } }, { "if-match": `"${saved.version}"` });
    expect(stale.status).toBe(412);
  });

  it("drop the members of a merged-away or erased customer, and of a deleted segment", async () => {
    const tag = uid("gone");
    const seg = uid("gone-seg");
    await saveSegmentAndWait(seg, { rule: { trait: "cohort", op: "eq", value: tag } });
    const [a, b] = [uid("a"), uid("b")];
    const anon = uid("anon");
    await processEvents(env, [identifyAt(a, { cohort: tag }), { ...identifyAt("", { cohort: tag }), userId: undefined, anonymousId: anon }]);
    expect(await membersOf(seg)).toHaveLength(2);
    // The anonymous visitor signs in as `a`: one person, one member.
    await processEvents(env, [{ ...identifyAt(a, {}), anonymousId: anon }]);
    expect(await membersOf(seg)).toEqual([await customerIdOf(a)]);
    await processEvents(env, [identifyAt(b, { cohort: tag })]);
    expect(await membersOf(seg)).toHaveLength(2);
    expect((await admin(`/v1/customers/${encodeURIComponent(b)}`, { method: "DELETE" })).status).toBeLessThan(300);
    expect(await membersOf(seg)).toEqual([await customerIdOf(a)]);
    expect(((await (await admin(`/v1/segments/${seg}`)).json()) as { size: number }).size).toBe(1);
    expect((await admin(`/v1/segments/${seg}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/v1/segments/${seg}`)).status).toBe(404);
    expect(await countEverywhere("SELECT count(*) AS n FROM segment_members WHERE segment_id = ?1", seg)).toBe(0);
    // Profiles forget it at the pass the deletion started.
    const customerId = await customerIdOf(a);
    await eventually(async () => {
      const row = await dbOf(customerId).prepare("SELECT segments FROM customers WHERE id = ?1").bind(customerId).first<{ segments: string }>();
      return !(seg in JSON.parse(row!.segments));
    }, "the profile forgets the deleted segment");
  });
});
