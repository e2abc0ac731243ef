import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { BASE, basic, bearer, KEYS, uid } from "../helpers";

/** The worker with a limiter of three requests per 10 s in place of the one named. */
const tight = (name: "INGEST_LIMITER" | "READ_LIMITER") => ({ ...env, [name]: env.TIGHT_LIMITER }) as unknown as Env;

describe("rate limits", () => {
  it("answer ingest past its limit per write key and client with 429 problem+json and Retry-After", async () => {
    const limited = tight("INGEST_LIMITER");
    const ip = `198.51.100.${Math.floor(Math.random() * 200)}`;
    const send = (address: string) =>
      worker.fetch(
        new Request(`${BASE}/v1/track`, { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json", "cf-connecting-ip": address }, body: JSON.stringify({ userId: uid(), event: "Limited" }) }),
        limited,
        createExecutionContext(),
      );
    // The limiter counts in fixed 10 s windows: a run may straddle two, so up to twice the limit
    // passes before the first refusal, never more.
    const answers: Response[] = [];
    for (let i = 0; i < 8; i++) answers.push(await send(ip));
    const statuses = answers.map((r) => r.status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = answers.find((r) => r.status === 429)!;
    expect(refused).toBeDefined();
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
    // Another shopper of the same shop (same public key, another address) is not held back.
    expect((await send(`203.0.113.${Math.floor(Math.random() * 200)}`)).status).toBe(200);
  });

  it("answer reads past their limit per key with 429 and Retry-After", async () => {
    const limited = tight("READ_LIMITER");
    // A key of its own, so that the other tests' reads do not count.
    const created = (await (await worker.fetch(new Request(`${BASE}/v1/admin/keys`, { method: "POST", headers: { authorization: bearer(KEYS.admin), "content-type": "application/json" }, body: JSON.stringify({ kind: "read", name: uid("limited") }) }), env, createExecutionContext())).json()) as { secret: string };
    const read = () => worker.fetch(new Request(`${BASE}/v1/customers/${uid("anyone")}`, { headers: { authorization: bearer(created.secret) } }), limited, createExecutionContext());
    const answers: Response[] = [];
    for (let i = 0; i < 8; i++) answers.push(await read());
    const statuses = answers.map((r) => r.status);
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(6);
    expect(answers.find((r) => r.status === 429)?.headers.get("retry-after")).toBe("10");
  });
});
