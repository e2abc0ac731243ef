import { describe, expect, it } from "vitest";
import { deliveryFigures } from "../../src/delivery/figures";
import { pipelineSeries } from "../../src/reports/pipeline-figures";
import { rapportApp } from "../../src/index";
import { admin, api as apiFollowing, BASE, env, eventually, getCustomer, ingest, KEYS, uid } from "../helpers";

// The worker's fetch follows redirects like fetch() does; the console's answers are checked as sent.
const api = (path: string, init: RequestInit = {}) => apiFollowing(path, { redirect: "manual", ...init });

/** Signs in through the form; returns the cookie header to send back and the Set-Cookie as sent. */
async function signIn(key: string = KEYS.admin): Promise<{ cookie: string; setCookie: string }> {
  const res = await api("/console/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, body: new URLSearchParams({ key, next: "/console/profiles" }) });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/console/profiles");
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0]!, setCookie };
}

const page = (path: string, cookie: string) => api(path, { headers: { cookie } });
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
const post = (path: string, cookie: string, form: Record<string, string>, origin = BASE) =>
  api(path, { method: "POST", headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });

async function newKey(kind: "admin" | "read"): Promise<{ id: string; secret: string }> {
  return (await (await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind, name: `console ${kind}` }) })).json()) as { id: string; secret: string };
}

/** A pack that exhausted its retries, as the dead-letter consumer keeps it: one identify of a new customer. */
async function deadLetterFor(userId: string): Promise<string> {
  const id = uid("dl");
  const now = new Date().toISOString();
  const pack = { v: 1, packId: uid("pk"), receivedAt: now, sourceId: "key_demo_write", rejected: [], events: [{ messageId: uid("m"), type: "identify", userId, traits: { plan: "replayed" }, timestamp: now, receivedAt: now, sourceId: "key_demo_write" }] };
  await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, last_error, received_at) VALUES (?, 'rapport-events', ?, 5, 'D1_ERROR: database is locked', ?)").bind(id, JSON.stringify(pack), Date.now()).run();
  return id;
}

describe("console sign-in", () => {
  it("keeps the session in a __Host- cookie that is HttpOnly, Secure and SameSite=Strict", async () => {
    const { setCookie, cookie } = await signIn();
    expect(cookie).toMatch(/^__Host-rapport-console=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    // The cookie holds a random token, never the key.
    expect(setCookie).not.toContain(KEYS.admin);
    const res = await page("/console/pipeline", cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("sends visitors without a session to the sign-in page and back", async () => {
    const res = await api("/console/profiles?q=demo-ada");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/console/sign-in?next=${encodeURIComponent("/console/profiles?q=demo-ada")}`);
    const forged = await page("/console/pipeline", "__Host-rapport-console=not-a-session");
    expect(forged.status).toBe(303);
  });

  it("holds every console route but its assets and sign-in behind a session", async () => {
    const OPEN = ["/console/assets/:name", "/console/sign-in"];
    const routes = rapportApp().routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/console") && !OPEN.includes(r.path));
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) {
      const path = r.path.replace(/:[A-Za-z]+/g, "x");
      const res = await api(path, { method: r.method, headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" }, ...(r.method === "POST" ? { body: "csrf=x" } : {}) });
      if (r.method === "GET") expect(res.headers.get("location"), `${r.method} ${r.path}`).toMatch(/^\/console\/sign-in\?next=/);
      else expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
  });

  it("refuses write keys and unknown keys without opening a session", async () => {
    for (const key of [KEYS.write, "ak_not_a_key"]) {
      const res = await api("/console/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, body: new URLSearchParams({ key }) });
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("not an active admin or read key");
    }
  });

  it("never follows a next that leaves the console", async () => {
    for (const next of ["https://evil.example/", "//evil.example/console", "/v1/admin/keys"]) {
      const res = await api("/console/sign-in", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, body: new URLSearchParams({ key: KEYS.admin, next }) });
      expect(res.headers.get("location")).toBe("/console");
    }
  });

  it("ends every session of a key when the key is revoked", async () => {
    const key = await newKey("admin");
    const { cookie } = await signIn(key.secret);
    expect((await page("/console/alerts", cookie)).status).toBe(200);
    expect((await admin(`/v1/admin/keys/${key.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await page("/console/alerts", cookie)).status).toBe(303);
  });

  it("signs out: the old cookie stops working even if the browser keeps it", async () => {
    const { cookie } = await signIn();
    const html = await (await page("/console/alerts", cookie)).text();
    const out = await post("/console/sign-out", cookie, { csrf: csrfOf(html) });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/__Host-rapport-console=;.*Max-Age=0/i);
    expect((await page("/console/alerts", cookie)).status).toBe(303);
  });
});

describe("console actions", () => {
  it("replays a dead letter from the pipeline page, once", async () => {
    const userId = uid("replayed");
    const id = await deadLetterFor(userId);
    const { cookie } = await signIn();
    const html = await (await page("/console/pipeline", cookie)).text();
    expect(html).toContain("D1_ERROR: database is locked");
    expect(html).toContain(`/console/pipeline/dead-letters/${id}/replay`);
    const res = await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, { csrf: csrfOf(html) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/pipeline?replayed=1");
    const profile = await eventually(async () => {
      const r = await getCustomer(userId);
      return r.ok ? ((await r.json()) as any) : null;
    }, "the replayed customer");
    expect(profile.traits.plan).toBe("replayed");
    // A second press (another tab, another admin) sends nothing again.
    const again = await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, { csrf: csrfOf(html) });
    expect(again.headers.get("location")).toBe("/console/pipeline?replayed=0");
    const row = await env.DB.prepare("SELECT replayed_at FROM dead_letters WHERE id = ?").bind(id).first<{ replayed_at: number }>();
    expect(row?.replayed_at).toBeGreaterThan(0);
  });

  it("replays every pending dead letter with Replay all", async () => {
    const ids = [await deadLetterFor(uid("all")), await deadLetterFor(uid("all"))];
    const { cookie } = await signIn();
    const html = await (await page("/console/pipeline", cookie)).text();
    expect(html).toContain("Replay all");
    const res = await post("/console/pipeline/dead-letters/replay", cookie, { csrf: csrfOf(html) });
    expect(Number(/replayed=(\d+)/.exec(res.headers.get("location") ?? "")?.[1])).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect((await env.DB.prepare("SELECT replayed_at FROM dead_letters WHERE id = ?").bind(id).first<{ replayed_at: number | null }>())?.replayed_at).toBeGreaterThan(0);
  });

  it("undoes a merge from the profile page", async () => {
    const userId = uid("merged");
    const anonymousId = uid("anon");
    await ingest("/v1/identify", { userId, traits: { plan: "pro" } });
    await ingest("/v1/page", { anonymousId, name: "Home" });
    await eventually(async () => (await getCustomer(userId)).ok && (await getCustomer(`anonymous_id:${anonymousId}`)).ok, "two customers");
    const anonCustomer = ((await (await getCustomer(`anonymous_id:${anonymousId}`)).json()) as any).id as string;
    await ingest("/v1/identify", { userId, anonymousId });
    await eventually(async () => (((await (await getCustomer(`anonymous_id:${anonymousId}`)).json()) as any).userId === userId ? true : null), "the merge");
    const { cookie } = await signIn();
    const html = await (await page(`/console/profiles?q=${userId}`, cookie)).text();
    expect(html).toContain(`/console/profiles/merges/${anonCustomer}/unmerge`);
    const res = await post(`/console/profiles/merges/${anonCustomer}/unmerge`, cookie, { csrf: csrfOf(html) });
    expect(res.headers.get("location")).toBe(`/console/profiles?q=${anonCustomer}&unmerged=done`);
    const restored = (await (await getCustomer(`anonymous_id:${anonymousId}`)).json()) as any;
    expect(restored.id).toBe(anonCustomer);
    expect(restored.userId).toBeNull();
    const after = await (await page(`/console/profiles?q=${anonCustomer}&unmerged=done`, cookie)).text();
    expect(after).toContain("Unmerged: the customer merged away is back on their own");
  });

  it("refuses an action without the session's CSRF token or from another origin", async () => {
    const id = await deadLetterFor(uid("csrf"));
    const { cookie } = await signIn();
    const html = await (await page("/console/pipeline", cookie)).text();
    expect((await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, {})).status).toBe(403);
    expect((await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, { csrf: "forged" })).status).toBe(403);
    expect((await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, { csrf: csrfOf(html) }, "https://evil.example")).status).toBe(403);
    const row = await env.DB.prepare("SELECT replayed_at FROM dead_letters WHERE id = ?").bind(id).first<{ replayed_at: number | null }>();
    expect(row?.replayed_at).toBeNull();
  });

  it("shows read-only sessions every page but no replay button, and refuses their actions", async () => {
    const id = await deadLetterFor(uid("readonly"));
    const key = await newKey("read");
    const { cookie } = await signIn(key.secret);
    const html = await (await page("/console/pipeline", cookie)).text();
    expect(html).toContain("read-only");
    expect(html).toContain("D1_ERROR: database is locked");
    expect(html).not.toContain("/replay");
    expect((await post(`/console/pipeline/dead-letters/${id}/replay`, cookie, { csrf: csrfOf(html) })).status).toBe(403);
    for (const p of ["profiles", "segments", "triggers", "content", "data-quality", "alerts"]) expect((await page(`/console/${p}`, cookie)).status).toBe(200);
  });
});

describe("console pages", () => {
  it("finds a customer by any identifier, bare email addresses included", async () => {
    const userId = uid("find");
    const email = `${userId}@example.com`;
    await ingest("/v1/identify", { userId, traits: { email, firstName: "Grace" } });
    await eventually(async () => (await getCustomer(userId)).ok, "the profile");
    const { cookie } = await signIn();
    for (const q of [userId, email, `email:${email}`]) {
      const html = await (await page(`/console/profiles?q=${encodeURIComponent(q)}`, cookie)).text();
      expect(html).toContain("Grace");
      expect(html).toContain("Timeline (newest 1 of 1)");
    }
    const missing = await page("/console/profiles?q=nobody-at-all", cookie);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("No customer matches");
  });

  it("escapes what customers sent, in tables and in chart data", async () => {
    const userId = uid("xss");
    await ingest("/v1/identify", { userId, traits: { firstName: "<script>alert(1)</script>" } });
    await eventually(async () => (await getCustomer(userId)).ok, "the profile");
    const { cookie } = await signIn();
    const html = await (await page(`/console/profiles?q=${userId}`, cookie)).text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("charts the pipeline in whole buckets, each event counted once whatever the range", async () => {
    const now = Date.UTC(2026, 11, 7, 12, 0, 0);
    const minute = Math.floor(now / 60_000);
    await env.DB.prepare("DELETE FROM pipeline_minutes").run();
    for (const [m, received] of [[minute - 1, 10], [minute - 20, 5], [minute - 2_000, 7]] as const)
      await env.DB.prepare("INSERT INTO pipeline_minutes (minute, batches, received, applied, quarantined, fresh_1s, fresh_slow) VALUES (?, 1, ?, ?, 1, ?, 1)").bind(m, received, received, received - 1).run();
    const hour = await pipelineSeries(env.DB, "hour", now);
    const day = await pipelineSeries(env.DB, "day", now);
    const week = await pipelineSeries(env.DB, "week", now);
    expect([hour.times.length, day.times.length, week.times.length]).toEqual([60, 96, 84]);
    // Received at ingest: accepted (what the consumer took) and quarantined (one a minute here).
    expect([hour.totals.accepted, day.totals.accepted, week.totals.accepted]).toEqual([15, 15, 22]);
    expect([hour.totals.received, day.totals.received, week.totals.received]).toEqual([17, 17, 25]);
    expect(day.accepted.filter((n) => n > 0)).toEqual([5, 10]);
    expect(week.times.every((t) => Number.isInteger(t / 7_200))).toBe(true);
    expect(hour.totals.freshP50Ms).toBe(1_000);
  });

  it("counts deliveries per destination with the failure rate the alert watches", async () => {
    const now = Date.now();
    const row = (status: string, url: string, attempts: number) =>
      env.DB.prepare("INSERT INTO deliveries (id, trigger_id, trigger_version, customer_id, url, status, attempts, message, fired_at, updated_at) VALUES (?, 'figures-trigger', 1, 'c', ?, ?, ?, '{}', ?, ?)").bind(uid("dlv"), url, status, attempts, now, now).run();
    await row("delivered", "https://esp-a.example/hook", 1);
    await row("delivered", "https://esp-a.example/hook", 2);
    await row("dead", "https://esp-b.example/hook", 5);
    await row("delivered", "https://esp-b.example/hook", 1);
    const f = await deliveryFigures(env.DB, now - 3_600_000, 60_000, now);
    const a = f.byHost.find((h) => h.host === "esp-a.example");
    const b = f.byHost.find((h) => h.host === "esp-b.example");
    expect(a).toMatchObject({ fired: 2, delivered: 2, retried: 1, failed: 0, failureRate: 0 });
    expect(b).toMatchObject({ fired: 2, delivered: 1, retried: 1, failed: 1, failureRate: 0.5 });
    expect(f.byTrigger.find((t) => t.triggerId === "figures-trigger")).toMatchObject({ fired: 4, failed: 1 });
    expect(f.fired.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(4);
    expect(f.firedByTrigger["figures-trigger"]!.reduce((x, y) => x + y, 0)).toBe(4);
    expect(f.failedByHost["esp-b.example"]!.reduce((x, y) => x + y, 0)).toBe(1);
    expect(f.firedByHost["esp-b.example"]!.reduce((x, y) => x + y, 0)).toBe(2);
  });

  it("sends a block's preview as a sandbox of its own, for signed-in sessions only", async () => {
    const block = uid("preview-block").toLowerCase();
    const put = await admin(`/v1/blocks/${block}`, { method: "PUT", body: JSON.stringify({ html: `<p>Hi {{ customer.user_id }}</p><script>document.title = "ran"</script>` }) });
    expect(put.status).toBe(201);
    const userId = uid("preview");
    await ingest("/v1/identify", { userId });
    await eventually(async () => (await getCustomer(userId)).ok, "the profile");
    const path = `/console/content/preview?block=${block}&customer=${userId}&format=html`;
    expect((await api(path)).status).toBe(303);
    const { cookie } = await signIn();
    const res = await page(path, cookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`Hi ${userId}`);
    expect(res.headers.get("content-security-policy")).toMatch(/^sandbox; default-src 'none'/);
  });

  it("serves uPlot from the Worker, not a CDN", async () => {
    const js = await api("/console/assets/uplot.js");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(await js.text()).toContain("uPlot");
    const { cookie } = await signIn();
    const html = await (await page("/console/pipeline", cookie)).text();
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    expect(html).toContain('<figure class="chart" id="chart-events">');
  });
});
