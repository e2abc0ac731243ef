import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import storefrontPlan from "../../src/tracking/plans/storefront.json";
import { admin, uid } from "../helpers";

/** The messages the README sends with the demo write key: `curl … /v1/<type> -u wk_local_demo: … -d '<json>'`. */
function readmeMessages(): { type: string; body: Record<string, unknown> }[] {
  const found = [...readme.matchAll(/curl[^\n]*\/v1\/(track|identify|page|screen|group|alias) -u wk_local_demo:[\s\S]*?-d '(\{.*\})'/g)];
  return found.map((m) => ({ type: m[1]!, body: JSON.parse(m[2]!) as Record<string, unknown> }));
}

describe("the README's examples", () => {
  it("send messages the demo storefront's tracking plan takes without a violation", async () => {
    const messages = readmeMessages();
    expect(messages.length).toBeGreaterThan(0);
    // The demo plan as `npm start` loads it, under a fresh source (the check sends nothing).
    const planId = uid("readme");
    const key = (await (await admin("/v1/admin/keys", { method: "POST", body: JSON.stringify({ kind: "write", name: planId }) })).json()) as { id: string };
    expect((await admin(`/v1/tracking-plans/${planId}`, { method: "PUT", body: JSON.stringify({ ...storefrontPlan, sources: [key.id] }) })).status).toBe(201);
    for (const { type, body } of messages) {
      const res = await admin(`/v1/tracking-plans/${planId}/check`, { method: "POST", body: JSON.stringify({ type, ...body }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { violations: unknown[] }).violations, JSON.stringify(body)).toEqual([]);
    }
  });
});
