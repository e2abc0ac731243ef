/**
 * Authentication by API key, the way Segment SDKs send it (HTTP Basic with the key as user name
 * and an empty password) or as a Bearer token. Scopes: write keys ingest only; read keys read
 * profiles; admin keys do everything but ingest. A missing, unknown, revoked or wrong-kind key is
 * the same 401, checked before anything is looked up, so a 401 says nothing about the data.
 */
import { createMiddleware } from "hono/factory";
import { findActiveKey, type ApiKey, type KeyKind } from "../keys/store";
import type { AppEnv } from "./context";
import { ApiError } from "../kernel/errors";
import { enforceRateLimit } from "./rate-limit";

/** The key in an `Authorization` header (Basic `key:` or Bearer), or null. */
export function keyFromAuthorization(header: string | undefined | null): string | null {
  if (!header) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === "bearer") return value;
  if (scheme.toLowerCase() === "basic") {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      return colon === -1 ? decoded : decoded.slice(0, colon);
    } catch {
      return null;
    }
  }
  return null;
}

export async function authenticate(env: Env, plaintext: string | null, allowed: readonly KeyKind[]): Promise<ApiKey> {
  const key = plaintext ? await findActiveKey(env.DB, plaintext) : null;
  if (!key || !allowed.includes(key.kind)) {
    throw new ApiError("unauthorized", `A valid ${allowed.join(" or ")} key is required`);
  }
  return key;
}

/** Middleware: the request must carry an active key of one of these kinds, within its rate limit. */
export function requireKey(...allowed: KeyKind[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = await authenticate(c.env, keyFromAuthorization(c.req.header("authorization")), allowed);
    await enforceRateLimit(c.env.READ_LIMITER, key.id, "read");
    c.set("apiKey", key);
    await next();
  });
}

export const READ_KINDS = ["read", "admin"] as const satisfies readonly KeyKind[];
