/**
 * Per-key rate limits with the Workers Rate Limiting binding (wrangler.toml `[[ratelimits]]`):
 * `INGEST_LIMITER` per write key and client IP, `READ_LIMITER` per read or admin key. Past a limit
 * the answer is 429 problem+json with `Retry-After` (the binding's window: 10 s). A deployment
 * without the binding is not limited. Counts are per Cloudflare location and approximate, as the
 * binding's are: this stops floods, not the last request over a quota.
 */
import { ApiError } from "../kernel/errors";

/** The window of the limits in wrangler.toml: what a client is told to wait. */
export const RATE_LIMIT_PERIOD_SECONDS = 10;

export async function enforceRateLimit(limiter: RateLimit | undefined, key: string, what: string): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new ApiError("rate_limited", `Too many ${what} requests for this key; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds`, [], { retryAfterSeconds: RATE_LIMIT_PERIOD_SECONDS });
  }
}

/** Who is calling, for limits per client: the address Cloudflare saw (`CF-Connecting-IP`). */
export const clientAddress = (headers: Headers) => headers.get("cf-connecting-ip") ?? "unknown";
