/**
 * Console access. Signing in with an admin or read key opens a session (keys/console-sessions.ts)
 * held in an HttpOnly, Secure, SameSite=Strict cookie with the `__Host-` prefix (this host only,
 * path /). Every page checks it; every form post also carries the session's CSRF token, compared
 * in constant time, on top of Hono's Origin check and the SameSite cookie. Behind Cloudflare
 * Access, Access's signed assertion stands for the session instead (./access.ts).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { findConsoleSession } from "../keys/console-sessions";
import { timingSafeEqualStrings } from "../kernel/crypto";
import { readConfig } from "../model/config";
import { ACCESS_HEADER, accessSession } from "./access";
import type { ConsoleEnv } from "./context";

/** The cookie's name without its prefix (Hono's `prefix: "host"` adds `__Host-`). */
export const COOKIE = "rapport-console";
export const COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: "Strict", path: "/", prefix: "host" } as const;

/** Only console paths are followed after sign-in: `next` never sends anyone elsewhere. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[\w\-./?=&%]*)?$/.test(next) && !next.includes("//") ? next : "/console";
}

/**
 * Pages need a session: Cloudflare Access's assertion when the deployment is behind Access, else
 * the sign-in cookie. Without one, GETs go to the sign-in page and come back; posts are refused.
 */
export const signedIn = createMiddleware<ConsoleEnv>(async (c, next) => {
  const access = readConfig(c.env).access;
  const assertion = access ? c.req.header(ACCESS_HEADER) : undefined;
  const token = getCookie(c, COOKIE, "host") ?? "";
  const session = (access && assertion ? await accessSession(access, assertion) : null) ?? (await findConsoleSession(c.env.DB, token));
  if (!session) {
    if (c.req.method === "GET") return c.redirect(`/console/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
    return c.text("Your console session has ended: sign in again.", 401);
  }
  c.set("session", session);
  c.set("token", token);
  await next();
});

/** A form post must carry this session's CSRF token. */
export async function formWithToken(c: Context<ConsoleEnv>): Promise<Record<string, string> | null> {
  const body = await c.req.parseBody();
  const sent = typeof body.csrf === "string" ? body.csrf : "";
  if (!(await timingSafeEqualStrings(sent, c.get("session").csrf))) return null;
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"));
}
