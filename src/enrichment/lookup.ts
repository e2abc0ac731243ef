/**
 * One call to an enricher's service: the URL with the key in it, secrets from the Worker's env,
 * a timeout. The answer is classified: found (the traits read from the JSON), not found (404/410,
 * or nothing at the declared paths), or failed (timeout, network, 429, 5xx, a refusal or a
 * missing secret): to be tried again later.
 */
import { readConfig } from "../model/config";
import { fetchOutbound, OutboundRefused, outboundPolicy } from "../kernel/outbound-url";
import { valueAt } from "../model/rules";
import type { EnricherDefinition } from "./definition";

export type LookupResult =
  | { status: "found"; traits: Record<string, unknown> }
  | { status: "not_found" }
  | { status: "failed"; reason: string; retryAfterSeconds?: number };

function headersOf(env: Env, d: EnricherDefinition): Record<string, string> | string {
  const out: Record<string, string> = { accept: "application/json" };
  for (const [name, value] of Object.entries(d.headers)) {
    if (typeof value === "string") out[name] = value;
    else {
      const secret = (env as unknown as Record<string, unknown>)[value.secret];
      if (typeof secret !== "string" || secret === "") return `the Worker secret ${value.secret} is not set`;
      out[name] = `${value.prefix}${secret}`;
    }
  }
  return out;
}

/** The traits the definition maps, from a JSON answer (null and absent values are left out). */
export function traitsFrom(d: EnricherDefinition, body: unknown): Record<string, unknown> {
  const traits: Record<string, unknown> = {};
  for (const [trait, path] of Object.entries(d.traits)) {
    const value = valueAt(body, path);
    if (value !== undefined && value !== null && value !== "") traits[trait] = value;
  }
  return traits;
}

export async function lookup(env: Env, d: EnricherDefinition, key: string, fetchImpl: typeof fetch = fetch): Promise<LookupResult> {
  const headers = headersOf(env, d);
  if (typeof headers === "string") return { status: "failed", reason: headers };
  let res: Response;
  try {
    // The policy again at call time, redirects included: saved under another policy, or redirected.
    res = await fetchOutbound(d.url.replaceAll("{key}", encodeURIComponent(key)), { headers, signal: AbortSignal.timeout(d.timeoutMs) }, outboundPolicy(readConfig(env)), fetchImpl);
  } catch (err) {
    if (err instanceof OutboundRefused) return { status: "failed", reason: `refused: ${err.message}` };
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { status: "failed", reason: timedOut ? `no answer within ${d.timeoutMs} ms` : `network: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return { status: "not_found" };
  }
  if (!res.ok) {
    await res.body?.cancel();
    const retryAfter = Number(res.headers.get("retry-after"));
    return { status: "failed", reason: `HTTP ${res.status}`, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: Math.min(retryAfter, 3_600) } : {}) };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { status: "failed", reason: "the answer is not JSON" };
  }
  const traits = traitsFrom(d, body);
  return Object.keys(traits).length > 0 ? { status: "found", traits } : { status: "not_found" };
}
