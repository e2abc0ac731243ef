import { Jwt } from "hono/utils/jwt";
import { describe, expect, it } from "vitest";
import { api as apiFollowing, BASE, env, uid } from "../helpers";

const api = (path: string, init: RequestInit = {}) => apiFollowing(path, { redirect: "manual", ...init });
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** An assertion as Cloudflare Access signs it for the console's application (test/access-server.ts). */
async function assertion(claims: Record<string, unknown> = {}, key = JSON.parse(env.TEST_ACCESS_PRIVATE_JWK)): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return Jwt.sign({ iss: env.ACCESS_TEAM_DOMAIN, aud: ["rapport-console-test"], email: "ops@shop.test", sub: "u1", iat: now, nbf: now, exp: now + 3600, ...claims }, key, "RS256");
}

const viaAccess = async (path: string, jwt: string, init: RequestInit = {}) => api(path, { ...init, headers: { "cf-access-jwt-assertion": jwt, ...(init.headers as Record<string, string>) } });

describe("the console behind Cloudflare Access", () => {
  it("lets in whom Access signed for, admins by ACCESS_ADMINS and everyone else read-only", async () => {
    const ops = await viaAccess("/console/pipeline", await assertion());
    expect(ops.status).toBe(200);
    const html = await ops.text();
    expect(html).toContain("ops@shop.test (Cloudflare Access) · admin");
    const byDomain = await (await viaAccess("/console/alerts", await assertion({ email: "lin@admins.shop.test" }))).text();
    expect(byDomain).toContain("· admin");
    const viewer = await (await viaAccess("/console/alerts", await assertion({ email: "marketing@shop.test" }))).text();
    expect(viewer).toContain("marketing@shop.test (Cloudflare Access) · read-only");
  });

  it("refuses assertions for another application, issuer or key, expired ones and tampered ones", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const otherKey = { ...((await crypto.subtle.exportKey("jwk", privateKey)) as object), kid: "rapport-test-key" };
    const good = await assertion();
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${btoa(JSON.stringify({ ...JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))), email: "ceo@admins.shop.test" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.${s}`;
    for (const bad of [await assertion({ aud: ["another-app"] }), await assertion({ iss: "https://evil.cloudflareaccess.com" }), await assertion({ exp: now - 10 }), await assertion({}, otherKey), tampered, "not.a.jwt"]) {
      const res = await viaAccess("/console/pipeline", bad);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toMatch(/^\/console\/sign-in/);
    }
  });

  it("takes actions from Access admins with the page's CSRF token, and signs out through Access", async () => {
    const jwt = await assertion();
    const id = uid("dl");
    await env.DB.prepare("INSERT INTO dead_letters (id, queue, body, attempts, last_error, received_at) VALUES (?, 'rapport-events', '{}', 5, 'boom', ?)").bind(id, Date.now()).run();
    const html = await (await viaAccess("/console/pipeline", jwt)).text();
    const form = (csrf: string) => ({ method: "POST", headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf }) });
    expect((await viaAccess(`/console/pipeline/dead-letters/${id}/replay`, jwt, form("forged"))).status).toBe(403);
    const replayed = await viaAccess(`/console/pipeline/dead-letters/${id}/replay`, jwt, form(csrfOf(html)));
    expect(replayed.headers.get("location")).toBe("/console/pipeline?replayed=1");
    const viewer = await assertion({ email: "marketing@shop.test" });
    const viewerHtml = await (await viaAccess("/console/pipeline", viewer)).text();
    expect((await viaAccess(`/console/pipeline/dead-letters/${id}/replay`, viewer, form(csrfOf(viewerHtml)))).status).toBe(403);
    const out = await viaAccess("/console/sign-out", jwt, form(csrfOf(html)));
    expect(out.headers.get("location")).toBe(`${env.ACCESS_TEAM_DOMAIN}/cdn-cgi/access/logout`);
  });
});
