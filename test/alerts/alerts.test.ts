import { describe, expect, it } from "vitest";
import { verifySignature } from "../../src/delivery/signature";
import { notify } from "../../src/alerts/notify";
import { AlertRuleDefinition } from "../../src/alerts/definition";
import { step } from "../../src/alerts/state";
import { percentileOf } from "../../src/model/freshness";
import { admin, env, eventually, ingest, profileWhen, uid } from "../helpers";
import { failNext, hookUrl, received } from "../trigger-helpers";

async function deadLetter(): Promise<string> {
  const id = uid("dl");
  await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, last_error, received_at) VALUES (?, 'rapport-events', '{}', 3, 'boom', ?)").bind(id, Date.now()).run();
  return id;
}

const evaluate = async () => (await (await admin("/v1/alerts/evaluate", { method: "POST" })).json()) as { notices: { ruleId: string; subject: string; action: string; delivered: boolean }[] };

describe("alert state", () => {
  const rule = { threshold: 5, cooldownMinutes: 10, metric: "dead_letters" as const };
  it("fires once, reminds after the cool-down with the same key, and resolves when the value drops", () => {
    const fired = step("r", "", undefined, 7, rule, 1_000);
    expect(fired.action).toBe("trigger");
    if (fired.action === "none") return;
    const told = { ...fired.state, notifiedAt: 1_000 };
    expect(step("r", "", told, 9, rule, 1_000 + 60_000).action).toBe("none");
    const reminded = step("r", "", told, 9, rule, 1_000 + 600_000);
    expect(reminded).toMatchObject({ action: "remind", state: { dedupKey: fired.state.dedupKey } });
    expect(step("r", "", told, 2, rule, 2_000)).toMatchObject({ action: "resolve", state: { status: "resolving", dedupKey: fired.state.dedupKey } });
    // A notification that did not get through is tried again at once.
    expect(step("r", "", fired.state, 9, rule, 2_000).action).toBe("remind");
  });

  it("fires on a volume that falls to its threshold, and reads freshness by its buckets", () => {
    const volume = { threshold: 0.5, cooldownMinutes: 10, metric: "volume_ratio" as const };
    expect(step("v", "", undefined, 0.4, volume, 0).action).toBe("trigger");
    expect(step("v", "", undefined, 0.9, volume, 0).action).toBe("none");
    expect(percentileOf([90, 4, 1, 5], 0.95)).toBe(30_000);
    expect(percentileOf([96, 4, 0, 0], 0.95)).toBe(1_000);
    expect(percentileOf([50, 0, 0, 50], 0.95)).toBe(60_000);
  });
});

describe("alerts", () => {
  it("page on PagerDuty, Slack and a signed webhook once while firing, and resolve with the same dedup key", async () => {
    const [pd, slack, hook] = [uid("pd"), uid("slack"), uid("hook")];
    const id = uid("dead-letters").toLowerCase();
    const rule = { name: "Dead letters piling up", metric: "dead_letters", threshold: 2, windowMinutes: 60, cooldownMinutes: 60, severity: "critical", destinations: [{ type: "pagerduty", url: hookUrl(pd), routingKeySecret: "PAGERDUTY_ROUTING_KEY" }, { type: "slack", url: hookUrl(slack) }, { type: "webhook", url: hookUrl(hook) }] };
    expect((await admin(`/v1/alerts/rules/${id}`, { method: "PUT", body: JSON.stringify(rule) })).status).toBe(201);
    // Other tests of this file may have dead letters too: this rule counts them all.
    const letters = [await deadLetter(), await deadLetter()];
    const first = await evaluate();
    expect(first.notices.filter((n) => n.ruleId === id)).toEqual([{ ruleId: id, subject: "", action: "trigger", delivered: true }]);
    const [page] = await received(pd);
    const event = JSON.parse(page!.body);
    expect(event).toMatchObject({ routing_key: "pd_routing_key_test", event_action: "trigger", payload: { source: "rapport", severity: "critical", component: "dead_letters", custom_details: { threshold: 2 } } });
    expect(event.payload.custom_details.deadLetters).toBeGreaterThanOrEqual(2);
    // Each notification links to the console page that shows what fired (PUBLIC_URL).
    expect(event.links).toEqual([{ href: "http://127.0.0.1:8787/console/pipeline?range=hour", text: "Open in the Rapport console" }]);
    expect(JSON.parse((await received(slack))[0]!.body).text).toContain("Dead letters piling up");
    expect(JSON.parse((await received(slack))[0]!.body).text).toContain("<http://127.0.0.1:8787/console/pipeline?range=hour|Open in the console>");
    const signed = (await received(hook))[0]!;
    expect(await verifySignature(signed.headers["rapport-signature"] ?? null, signed.body, "whsec_test_new")).toMatchObject({ ok: true });
    expect(JSON.parse(signed.body)).toMatchObject({ type: "alert.triggered", dedupKey: event.dedup_key, consoleUrl: "http://127.0.0.1:8787/console/pipeline?range=hour" });

    // Still firing: nothing new within the cool-down.
    await evaluate();
    expect(await received(pd)).toHaveLength(1);

    // Replayed: the condition clears, and PagerDuty resolves the same incident.
    const now = Date.now();
    for (const l of letters) await env.DB.prepare("UPDATE dead_letters SET replayed_at = ? WHERE id = ?").bind(now, l).run();
    await env.DB.prepare("UPDATE dead_letters SET replayed_at = ? WHERE replayed_at IS NULL").bind(now).run();
    const resolved = await evaluate();
    expect(resolved.notices.filter((n) => n.ruleId === id).map((n) => n.action)).toEqual(["resolve"]);
    const pages = (await received(pd)).map((r) => JSON.parse(r.body));
    expect(pages.map((p) => [p.event_action, p.dedup_key])).toEqual([
      ["trigger", event.dedup_key],
      ["resolve", event.dedup_key],
    ]);
    const alerts = (await (await admin("/v1/alerts")).json()) as { alerts: { ruleId: string; status: string }[] };
    expect(alerts.alerts.find((a) => a.ruleId === id)?.status).toBe("resolved");
    const history = (await (await admin("/v1/alerts/history?limit=50")).json()) as { history: { ruleId: string; action: string }[] };
    expect(history.history.filter((h) => h.ruleId === id).map((h) => h.action)).toEqual(["resolve", "trigger"]);
  });

  it("tries a page that did not get through again at the next evaluation, under the same key", async () => {
    const pd = uid("pd");
    const id = uid("failures").toLowerCase();
    const rule = { name: "Quarantine", metric: "quarantined", threshold: 1, destinations: [{ type: "pagerduty", url: hookUrl(pd), routingKeySecret: "PAGERDUTY_ROUTING_KEY" }] };
    expect((await admin(`/v1/alerts/rules/${id}`, { method: "PUT", body: JSON.stringify(rule) })).status).toBe(201);
    await env.DB.prepare("INSERT INTO quarantine (id, received_at, source_id, endpoint, reason, errors, raw) VALUES (?, ?, 'key_test', '/v1/track', 'invalid', '[]', '{}')").bind(uid("q"), Date.now()).run();
    await failNext(pd, 1);
    expect((await evaluate()).notices.find((n) => n.ruleId === id)).toMatchObject({ action: "trigger", delivered: false });
    expect((await evaluate()).notices.find((n) => n.ruleId === id)).toMatchObject({ action: "remind", delivered: true });
    const keys = (await received(pd)).map((r) => JSON.parse(r.body).dedup_key);
    expect(new Set(keys).size).toBe(1);
    await admin(`/v1/alerts/rules/${id}`, { method: "DELETE" });
  });

  it("never calls a private or metadata address where the deployment forbids it, and refuses a rule without destinations", async () => {
    const strict = { ...env, ALLOW_PRIVATE_OUTBOUND: "false" } as unknown as Env;
    const rule = AlertRuleDefinition.parse({ name: "x", metric: "dead_letters", threshold: 1, destinations: [{ type: "webhook", url: "https://169.254.169.254/latest/meta-data" }] });
    const outcomes = await notify(strict, { ruleId: "x", rule, action: "trigger", details: {}, state: { ruleId: "x", subject: "", status: "firing", since: 0, dedupKey: "k", value: 3, notifiedAt: 0, updatedAt: 0 } });
    expect(outcomes[0]).toMatchObject({ ok: false, status: null });
    expect(outcomes[0]!.error).toContain("destination refused");
    const res = await admin(`/v1/alerts/rules/${uid("r").toLowerCase()}`, { method: "PUT", body: JSON.stringify({ name: "x", metric: "dead_letters", threshold: 1, destinations: [] }) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("destinations");
  });

  it("watch each destination's delivery failure rate apart, once it has enough attempts", async () => {
    const hook = uid("hook");
    const id = uid("deliveries").toLowerCase();
    const rule = { name: "Deliveries failing", metric: "delivery_failure_rate", threshold: 0.5, minVolume: 4, destinations: [{ type: "webhook", url: hookUrl(hook) }] };
    expect((await admin(`/v1/alerts/rules/${id}`, { method: "PUT", body: JSON.stringify(rule) })).status).toBe(201);
    const delivery = (url: string, status: string) =>
      env.DB.prepare("INSERT INTO deliveries (id, trigger_id, trigger_version, customer_id, url, status, attempts, message, fired_at, updated_at) VALUES (?, 't', 1, 'c', ?, ?, 1, '{}', ?, ?)")
        .bind(uid("dlv"), url, status, Date.now(), Date.now())
        .run();
    // esp-a.example fails 3 of 4; esp-b.example 1 of 4; esp-c.example 2 of 2, too few to count.
    for (const s of ["dead", "rejected", "retrying", "delivered"]) await delivery("https://esp-a.example/hook", s);
    for (const s of ["dead", "delivered", "delivered", "delivered"]) await delivery("https://esp-b.example/hook", s);
    for (const s of ["dead", "dead"]) await delivery("https://esp-c.example/hook", s);
    const notices = (await evaluate()).notices.filter((n) => n.ruleId === id);
    expect(notices.map((n) => [n.subject, n.action])).toEqual([["esp-a.example", "trigger"]]);
    const body = JSON.parse((await received(hook))[0]!.body);
    expect(body).toMatchObject({ subject: "esp-a.example", value: 0.75, details: { attempted: 4, failed: 3 } });
  });

  it("watch the pipeline minute by minute: freshness of real batches, and a volume fallen below its usual level", async () => {
    const hook = uid("hook");
    const fresh = uid("fresh").toLowerCase();
    // Any batch takes at least a few milliseconds, so its p95 bucket (1 s at best) reaches 1 ms.
    expect((await admin(`/v1/alerts/rules/${fresh}`, { method: "PUT", body: JSON.stringify({ name: "Slow profiles", metric: "freshness_p95_ms", threshold: 1, minVolume: 3, destinations: [{ type: "webhook", url: hookUrl(hook) }] }) })).status).toBe(201);
    const userId = uid("u");
    await ingest("/v1/batch", { batch: [0, 1, 2].map((i) => ({ type: "track", userId, event: `Viewed ${i}` })) });
    await profileWhen(userId, (p) => p.eventCount === 3);
    const minutes = await eventually(async () => {
      const row = await env.DB.prepare("SELECT sum(received) AS received, sum(fresh_1s + fresh_5s + fresh_30s + fresh_slow) AS events FROM pipeline_minutes").first<{ received: number; events: number }>();
      return (row?.events ?? 0) >= 3 ? row : null;
    }, "the batch's minute");
    expect(minutes!.received).toBeGreaterThanOrEqual(3);
    const notices = (await evaluate()).notices.filter((n) => n.ruleId === fresh);
    expect(notices.map((n) => n.action)).toEqual(["trigger"]);
    expect(JSON.parse((await received(hook))[0]!.body).details.events).toBeGreaterThanOrEqual(3);

    // Usually 1,000 events in the hour before now, on each of the last 7 days; today 30.
    const volume = uid("volume").toLowerCase();
    const now = Date.now();
    const minute = Math.floor((now - 30 * 60_000) / 60_000);
    for (let d = 1; d <= 7; d++) await env.DB.prepare("INSERT INTO pipeline_minutes (minute, received) VALUES (?, 1000) ON CONFLICT (minute) DO UPDATE SET received = received + 1000").bind(minute - d * 1440).run();
    await env.DB.prepare("INSERT INTO pipeline_minutes (minute, received) VALUES (?, 30) ON CONFLICT (minute) DO UPDATE SET received = received + 30").bind(minute).run();
    expect((await admin(`/v1/alerts/rules/${volume}`, { method: "PUT", body: JSON.stringify({ name: "Traffic dropped", metric: "volume_ratio", threshold: 0.5, windowMinutes: 60, destinations: [{ type: "webhook", url: hookUrl(hook) }] }) })).status).toBe(201);
    const dropped = (await evaluate()).notices.filter((n) => n.ruleId === volume);
    expect(dropped.map((n) => n.action)).toEqual(["trigger"]);
    const body = JSON.parse((await received(hook)).at(-1)!.body);
    expect(body.details.usual).toBeGreaterThanOrEqual(1000);
    expect(body.value).toBeLessThan(0.5);
  });

  it("watch each segment's size swing over whole days, from a usual size up", async () => {
    const hook = uid("hook");
    const [swinging, steady, tiny] = [uid("swing").toLowerCase(), uid("steady").toLowerCase(), uid("tiny").toLowerCase()];
    const today = Math.floor(Date.now() / 86_400_000);
    const segment = (id: string, size: number) =>
      env.DB.prepare("INSERT INTO segments (id, version, definition, enabled, size, members_since, created_at, updated_at) VALUES (?, 1, '{}', 1, ?, 0, 0, 0)").bind(id, size).run();
    const day = (id: string, d: number, entered: number, exited: number, size: number) => env.DB.prepare("INSERT INTO segment_stats (segment_id, day, entered, exited, size) VALUES (?, ?, ?, ?, ?)").bind(id, d, entered, exited, size).run();
    // 100 members yesterday morning, 160 now: a 60 % swing. Another moved 5 %; a small one doubled.
    await segment(swinging, 160);
    await day(swinging, today - 1, 40, 0, 140);
    await day(swinging, today, 30, 10, 160);
    await segment(steady, 105);
    await day(steady, today, 5, 0, 105);
    await segment(tiny, 6);
    await day(tiny, today, 3, 0, 6);
    const id = uid("segments").toLowerCase();
    const rule = { name: "Segment swings", metric: "segment_size_change", threshold: 0.3, windowMinutes: 2_880, minVolume: 20, destinations: [{ type: "webhook", url: hookUrl(hook) }] };
    expect((await admin(`/v1/alerts/rules/${id}`, { method: "PUT", body: JSON.stringify(rule) })).status).toBe(201);
    const fired = (await evaluate()).notices.filter((n) => n.ruleId === id);
    expect(fired).toEqual([{ ruleId: id, subject: swinging, action: "trigger", delivered: true }]);
    const body = JSON.parse((await received(hook))[0]!.body);
    expect(body.details).toMatchObject({ segment: swinging, sizeBefore: 100, sizeNow: 160, entered: 70, exited: 10 });
    expect(body.value).toBeCloseTo(0.6);
    expect(body.consoleUrl).toBe(`http://127.0.0.1:8787/console/segments/${swinging}`);
  });
});
