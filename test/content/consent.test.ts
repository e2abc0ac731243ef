import { describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { fetchUrl, linksOf, putBlock, shopper } from "../content-helpers";
import { api, env, uid } from "../helpers";
import { ev } from "../trigger-helpers";

async function textWhen(url: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await (await fetchUrl(url)).text();
    if (ready(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("consent in content blocks", () => {
  it("serves the fallback to a customer who declined personalization, and sends their clicks where anyone's would go", async () => {
    const { userId } = await shopper();
    const block = uid("consent-block");
    const definition = {
      html: `<p>Hi {{ customer.first_name }}: {% for product in products %}{{ product.name }} {% endfor %}</p>`,
      fallback: "<p>Our bestsellers</p>",
      products: { source: "recently_viewed" as const, limit: 4 },
      links: { fallbackUrl: "https://shop.example/bestsellers" },
    };
    expect((await putBlock(block, definition)).status).toBeLessThan(300);
    const links = await linksOf(block, userId);
    expect(await (await fetchUrl(links.token.html)).text()).toContain("Lamp");
    const anonymous = (await api(`/v1/r/${block}/0`, { redirect: "manual" })).headers.get("location");

    // The customer says no to personalization (as Segment SDKs send consent).
    await processEvents(env, [ev({ type: "track", userId, event: "Consent Updated", properties: {}, context: { consent: { categoryPreferences: { personalization: false, marketing: true } } } })]);
    const declined = await textWhen(links.token.html, (t) => t.includes("Our bestsellers"));
    expect(declined).toContain("Our bestsellers");
    expect(declined).not.toContain("Lamp");
    const click = await fetchUrl(links.click);
    expect(click.status).toBe(302);
    expect(click.headers.get("location")).toBe(anonymous);
  });
});
