import { beforeEach, describe, expect, it } from "vitest";
import { api, bearer, eventually, KEYS, profileWhen, uid } from "../helpers";
import { fetchUrl, forgetCatalogCache, linksOf, putBlock, shopper } from "../content-helpers";

beforeEach(() => forgetCatalogCache());

const PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

describe("the open pixel", () => {
  it("records every open as Email Opened, classified at the edge with its reason, and the same GIF for everyone", async () => {
    const block = uid("news");
    await putBlock(block, { html: "<p>news</p>" });
    const { userId } = await shopper();
    const { customerId, contentToken } = await linksOf(block, userId);
    const before = (await profileWhen(userId, () => true)).sendTime.engagements as number;
    const pixel = `http://rapport.test/v1/o/${block}?t=${encodeURIComponent(contentToken)}&m=msg-42&tr=cart-abandoned`;

    const person = await fetchUrl(pixel, { "user-agent": PHONE });
    const apple = await fetchUrl(pixel, { "user-agent": "Mozilla/5.0", "cf-connecting-ip": "17.58.10.1" });
    const scanner = await api(new URL(pixel).pathname + new URL(pixel).search, { method: "HEAD" });
    const forged = await fetchUrl(`http://rapport.test/v1/o/${block}?t=${customerId}.AAAAAAAAAAAAAAAAAAAAAA`, { "user-agent": PHONE });
    const bytes = async (r: Response) => [...new Uint8Array(await r.arrayBuffer())].join(",");
    expect(person.headers.get("content-type")).toBe("image/gif");
    expect(person.headers.get("cache-control")).toContain("no-store");
    expect(scanner.status).toBe(200);
    const gif = await bytes(person);
    expect(await bytes(apple)).toBe(gif);
    expect(await bytes(forged)).toBe(gif);

    const opens = await eventually(async () => {
      const res = await api(`/v1/customers/${customerId}/events?limit=100`, { headers: { authorization: bearer(KEYS.read) } });
      const body = (await res.json()) as { events: { event?: string; properties?: Record<string, unknown> }[] };
      const found = body.events.filter((e) => e.event === "Email Opened");
      return found.length === 3 ? found : null;
    }, "three recorded opens");
    const classes = opens.map((e) => [e.properties?.engagement_class, e.properties?.engagement_reason]).sort();
    expect(classes).toEqual([
      ["human", "browser"],
      ["machine_open", "apple_mpp_address"],
      ["scanner", "head_request"],
    ]);
    for (const e of opens) expect(e.properties).toMatchObject({ block_id: block, email_id: "msg-42", trigger_id: "cart-abandoned" });
    // Only the person's open tells when the customer reads.
    const profile = await profileWhen(userId, (p) => p.counters.events["Email Opened"] === 3);
    expect(profile.sendTime.engagements).toBe(before + 1);
  });
});
