/**
 * Cloudflare Access in front of the console: Access signs each request it lets through with a JWT
 * in `Cf-Access-Jwt-Assertion`, verified here against the team's public keys (RS256, fetched from
 * `<team>/cdn-cgi/access/certs` and kept ten minutes per isolate, refetched at once for an
 * unknown key id), the application's audience tag, the issuer and the expiry (Hono's JWT
 * utilities). Admins are the emails or domains in ACCESS_ADMINS; everyone else Access lets in
 * only looks. Nothing is stored: each request is verified on its own.
 */
import { Jwt } from "hono/utils/jwt";
import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import type { ConsoleSession } from "../keys/console-sessions";
import { sha256Hex } from "../kernel/crypto";
import { log } from "../kernel/log";
import type { Config } from "../model/config";

export const ACCESS_HEADER = "cf-access-jwt-assertion";
const KEYS_MS = 10 * 60_000;
const cached = new Map<string, { keys: HonoJsonWebKey[]; until: number }>();

async function teamKeys(teamDomain: string, fresh: boolean): Promise<HonoJsonWebKey[]> {
  const hit = cached.get(teamDomain);
  if (hit && !fresh && hit.until > Date.now()) return hit.keys;
  const res = await fetch(`${teamDomain}/cdn-cgi/access/certs`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`Access certs: HTTP ${res.status}`);
  const { keys } = (await res.json()) as { keys?: HonoJsonWebKey[] };
  if (!Array.isArray(keys)) throw new Error("Access certs: no keys");
  cached.set(teamDomain, { keys, until: Date.now() + KEYS_MS });
  return keys;
}

/** The session an Access assertion stands for, or null when it does not verify. */
export async function accessSession(access: NonNullable<Config["access"]>, assertion: string): Promise<ConsoleSession | null> {
  if (!assertion || assertion.length > 8_192) return null;
  const verify = async (fresh: boolean) =>
    Jwt.verifyWithJwks(assertion, { keys: await teamKeys(access.teamDomain, fresh), allowedAlgorithms: ["RS256"], verification: { iss: access.teamDomain, aud: access.aud } });
  let payload: Awaited<ReturnType<typeof verify>>;
  try {
    payload = await verify(false).catch(async (err) => {
      // Access rotates its keys: an unknown key id is worth one fresh look at the team's keys.
      if (err instanceof Error && err.name === "JwtTokenInvalid") return verify(true);
      throw err;
    });
  } catch (err) {
    // The reason's name only: the messages quote the assertion, which must not reach the logs.
    log("warn", "console.access_refused", { reason: err instanceof Error ? err.name : "unknown" });
    return null;
  }
  const email = typeof payload.email === "string" ? payload.email.toLowerCase() : "";
  if (!email) return null;
  const admin = access.admins.some((a) => (a.startsWith("@") ? email.endsWith(a) : email === a));
  const exp = typeof payload.exp === "number" ? payload.exp * 1000 : Date.now();
  // No stored session, so the CSRF token is derived from the assertion, which only the browser holds.
  return { role: admin ? "admin" : "read", who: `${email} (Cloudflare Access)`, csrf: (await sha256Hex(`rapport-console-csrf:${assertion}`)).slice(0, 32), expiresAt: exp, via: "access" };
}
