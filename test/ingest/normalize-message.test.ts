import { describe, expect, it } from "vitest";
import { normalizeMessage, type IngestContext } from "../../src/ingest/normalize";
import { TrackMessage } from "../../src/ingest/schemas";

const normalize = async (raw: Record<string, unknown>, ctx: IngestContext) => normalizeMessage("track", raw, TrackMessage.parse(raw), ctx);

describe("normalizing a message into a stored event", () => {
  it("dates an event without a client time when it was received, each request with its own time", async () => {
    const first = { receivedAt: new Date("2026-03-01T10:00:00.000Z"), sourceId: "src_a" };
    const second = { receivedAt: new Date("2026-03-01T10:00:07.250Z"), sourceId: "src_a" };
    const a = await normalize({ userId: "u1", event: "Viewed", messageId: "m1" }, first);
    const b = await normalize({ userId: "u1", event: "Viewed", messageId: "m2" }, second);
    const c = await normalize({ userId: "u1", event: "Viewed", messageId: "m3" }, first);
    expect([a.timestamp, a.receivedAt]).toEqual(["2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z"]);
    expect([b.timestamp, b.receivedAt]).toEqual(["2026-03-01T10:00:07.250Z", "2026-03-01T10:00:07.250Z"]);
    expect([c.timestamp, c.receivedAt]).toEqual(["2026-03-01T10:00:00.000Z", "2026-03-01T10:00:00.000Z"]);
    expect(a.originalTimestamp).toBeUndefined();
  });

  it("merges the batch's context under the message's, leaving the client's objects as they were", async () => {
    const own = { page: { url: "https://shop.example/" }, locale: "fr-FR" };
    const raw = { userId: "u1", event: "Viewed", messageId: "m1", context: own };
    const event = await normalize(raw, { receivedAt: new Date(), sourceId: "src_a", batchContext: { locale: "en-GB", library: { name: "analytics.js" } } });
    expect(event.context).toEqual({ locale: "fr-FR", library: { name: "analytics.js" }, page: { url: "https://shop.example/" } });
    expect(own).toEqual({ page: { url: "https://shop.example/" }, locale: "fr-FR" });
  });

  it("gives events of the same user agent equal, separately enriched contexts", async () => {
    const userAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const ctx = { receivedAt: new Date(), sourceId: "src_a" };
    const a = await normalize({ userId: "u1", event: "A", messageId: "m1", context: { userAgent } }, ctx);
    const b = await normalize({ userId: "u1", event: "B", messageId: "m2", context: { userAgent, os: { name: "iPadOS" } } }, ctx);
    expect(a.context).toMatchObject({ os: { name: "iOS", version: "17.4" }, browser: { name: "Safari" }, enrichedBy: { os: "user-agent" } });
    expect(b.context).toMatchObject({ os: { name: "iPadOS" }, browser: { name: "Safari" } });
    expect((b.context!.enrichedBy as Record<string, string>).os).toBeUndefined();
    expect(a.context).not.toBe(b.context);
  });
});
