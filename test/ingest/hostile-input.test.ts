import { describe, expect, it } from "vitest";
import { MAX_NESTING_DEPTH } from "../../src/model/depth";
import { admin, api, basic, eventually, ingest, KEYS, profileWhen, uid } from "../helpers";

/** `{"a":{"a":…1…}}` nested `levels` objects deep, as text (JSON.stringify would recurse). */
const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
/** `[[[…]]]`: the cheapest nesting per byte, 2 bytes a level. */
const arraysText = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

async function quarantined(match: (item: Record<string, any>) => boolean, what: string): Promise<Record<string, any>> {
  return eventually(async () => {
    const list = (await (await admin("/v1/admin/quarantine?limit=200")).json()) as { items: Record<string, any>[] };
    return list.items.find(match);
  }, what);
}

function post(path: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, { method: "POST", headers: { authorization: basic(KEYS.write), "content-type": "application/json", ...headers }, body });
}

/** A body sent in chunks, without a Content-Length (Transfer-Encoding: chunked on the wire). */
function chunked(chunk: Uint8Array, times: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ < times) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

async function gzipped(text: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

describe("ingest: nesting depth", () => {
  it("refuses a message nested 12,000 levels deep (24 KB) with 400 naming the path, and quarantines it", async () => {
    const marker = uid("deep");
    const body = `{"userId":"${marker}","event":"Deep","properties":{"a":${arraysText(12_000)}}}`;
    expect(body.length).toBeLessThan(32 * 1024);
    const res = await post("/v1/track", body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as any;
    expect(problem.requestId).toBe(res.headers.get("x-request-id"));
    // The message is level 1, properties 2, the array `a` 3: the 30th array inside it is one too many.
    expect(problem.errors[0].field).toBe(`properties.a${"[0]".repeat(MAX_NESTING_DEPTH - 2)}`);
    expect(problem.errors[0].message).toContain(`${MAX_NESTING_DEPTH} levels`);
    const item = await quarantined((i) => i.raw.includes(marker), "the deep message in quarantine");
    expect(item.reason).toBe("too_deep");
    expect(item.raw.startsWith(`{"userId":"${marker}"`)).toBe(true);
  });

  it("takes exactly the limit, refuses one level more by index in a batch, and keeps the rest", async () => {
    const userId = uid("depth");
    // properties is level 2; `levels` objects inside it reach level 2 + levels.
    const within = JSON.parse(`{"type":"track","userId":"${userId}","event":"Within","properties":${nestedText(MAX_NESTING_DEPTH - 1)}}`);
    const beyond = JSON.parse(`{"type":"track","userId":"${userId}","event":"Beyond","properties":${nestedText(MAX_NESTING_DEPTH)}}`);
    const res = await ingest("/v1/batch", { batch: [within, beyond, { type: "identify", userId, traits: { fine: true } }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ accepted: 2, quarantined: 1 });
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0].index).toBe(1);
    expect(body.rejected[0].errors[0].field).toBe(`batch[1].properties${".a".repeat(MAX_NESTING_DEPTH - 1)}`);
    await profileWhen(userId, (p) => p.eventCount === 2 && p.traits.fine === true && p.counters.events.Within === 1);
  });

  it("refuses a batch whose own context nests too deeply, with 400 naming it", async () => {
    const res = await post("/v1/batch", `{"batch":[{"type":"page","anonymousId":"a"}],"context":${nestedText(40)}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].field).toMatch(/^context\.a\.a/);
  });

  it("answers a 400, not a 500, to a batch body that is one deep array", async () => {
    const res = await post("/v1/batch", arraysText(100_000));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("refuses an admin body nested too deeply with 400 (a segment rule)", async () => {
    let rule = '{"trait":"a","op":"eq","value":1}';
    for (let i = 0; i < 5_000; i++) rule = `{"not":${rule}}`;
    const res = await admin(`/v1/segments/${uid("deep-seg")}`, { method: "PUT", body: `{"name":"Deep","rule":${rule}}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).detail).toContain("nests deeper");
  });
});

describe("ingest: bodies over a limit", () => {
  it("answers 413 naming the limit for a chunked body of 5 MB, and keeps its first 32 KB in quarantine", async () => {
    const marker = uid("huge");
    const head = new TextEncoder().encode(`{"batch":[{"type":"track","userId":"${marker}","event":"Big","properties":{"pad":"`);
    const res = await post("/v1/batch", new Blob([head, ...Array.from({ length: 80 }, () => "x".repeat(64 * 1024))]).stream());
    expect(res.status).toBe(413);
    const problem = (await res.json()) as any;
    expect(problem).toMatchObject({ code: "payload_too_large", limit: "batch", limitBytes: 500 * 1024 });
    const item = await quarantined((i) => i.raw.includes(marker), "the head of the huge body");
    expect(item).toMatchObject({ reason: "too_large", truncated: true, endpoint: "/v1/batch" });
    expect(new TextEncoder().encode(item.raw).byteLength).toBe(32 * 1024);
  });

  it("answers 413 for a gzip body that decompresses past the limit, sent in chunks", async () => {
    const bomb = await gzipped("x".repeat(20 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    const res = await post("/v1/batch", chunked(bomb, 1), { "content-encoding": "gzip" });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].message).toContain("once decompressed");
  });

  it("answers 413 for a message over 32 KB, and a chunked stream of 20 MB, without reading it all", async () => {
    const res = await post("/v1/track", chunked(new Uint8Array(1024 * 1024).fill(0x20), 20));
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).limit).toBe("message");
  });

  it("keeps 32 KB of a refused batch item, not 8 KB", async () => {
    const marker = uid("item");
    const res = await ingest("/v1/batch", { batch: [{ type: "track", userId: marker, event: "Big", properties: { pad: "y".repeat(40 * 1024) } }, { type: "page", userId: uid() }] });
    expect(res.status).toBe(200);
    const item = await quarantined((i) => i.raw.includes(marker), "the big item");
    expect(item).toMatchObject({ reason: "message_too_large", truncated: true });
    expect(item.raw.length).toBe(32 * 1024);
  });
});

describe("ingest: bodies that do not decode", () => {
  it.each([
    ["gzip declared, plain body", "gzip", async (text: string) => new TextEncoder().encode(text)],
    ["truncated gzip", "gzip", async (text: string) => (await gzipped(text)).subarray(0, 20)],
    ["gzip declared as deflate", "deflate", gzipped],
  ])("refuses %s with 400 naming Content-Encoding, and keeps it", async (_, encoding, encode) => {
    const marker = uid("enc");
    const res = await post("/v1/track", await encode(`{"userId":"${marker}","event":"E"}`), { "content-encoding": encoding });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as any;
    expect(problem.errors[0].field).toBe("Content-Encoding");
    const item = await quarantined((i) => i.reason === "bad_encoding" && (i.raw.includes(marker) || i.raw.startsWith("base64:")) && i.errors[0]?.field === "Content-Encoding", "the body in quarantine");
    expect(item.endpoint).toBe("/v1/track");
  });

  it("refuses a body that is not UTF-8 with the byte offset, instead of replacing the byte, and keeps it as sent", async () => {
    const marker = uid("utf8");
    const text = new TextEncoder().encode(`{"userId":"${marker}","event":"E","properties":{"name":"caf`);
    const bytes = new Uint8Array([...text, 0xe9, ...new TextEncoder().encode(`"}}`)]);
    const res = await post("/v1/track", bytes);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as any;
    expect(problem.offset).toBe(text.byteLength);
    expect(problem.errors[0].message).toContain(`offset ${text.byteLength}`);
    const item = await quarantined((i) => i.reason === "invalid_utf8" && i.raw === `base64:${btoa(String.fromCharCode(...bytes))}`, "the body as sent");
    expect(item.errors[0].field).toBe("(body)");
  });
});

describe("ingest: event times no clock gives", () => {
  it("keeps an event dated 9999 or 1970 at the time it was received, flagged with what the client said", async () => {
    const userId = uid("clock");
    const before = Date.now();
    const res = await ingest("/v1/batch", {
      batch: [
        { type: "track", userId, event: "Future", timestamp: "9999-12-31T23:59:59Z" },
        { type: "track", userId, event: "Epoch", timestamp: "1970-01-01T00:00:00Z" },
        { type: "track", userId, event: "Tomorrow", timestamp: new Date(before + 60 * 60 * 1000).toISOString() },
      ],
    });
    expect(res.status).toBe(200);
    const profile = await profileWhen(userId, (p) => p.eventCount === 3);
    // An hour ahead is believed (clocks drift); 9999 is not, and never becomes the last seen time.
    expect(Date.parse(profile.lastSeenAt)).toBe(before + 60 * 60 * 1000);
    const events = ((await (await api(`/v1/customers/${userId}/events`, { headers: { authorization: `Bearer ${KEYS.read}` } })).json()) as { events: Record<string, any>[] }).events;
    const byName = Object.fromEntries(events.map((e) => [e.event, e]));
    expect(byName.Future.timestamp).toBe(byName.Future.receivedAt);
    expect(byName.Future.context.timestampAdjusted).toEqual({ reason: "future", timestamp: "9999-12-31T23:59:59.000Z" });
    expect(byName.Future.originalTimestamp).toBe("9999-12-31T23:59:59Z");
    expect(byName.Epoch.context.timestampAdjusted).toEqual({ reason: "before_2000", timestamp: "1970-01-01T00:00:00.000Z" });
    expect(byName.Tomorrow.context?.timestampAdjusted).toBeUndefined();
  });
});

describe("ingest: exact identifiers", () => {
  it("keeps every digit of a numeric userId and property past 2^53", async () => {
    const res = await post("/v1/track", `{"userId":820982911946154508,"event":"Order Completed","properties":{"order_id":115310627314723954,"total":1.5,"small":42}}`);
    expect(res.status).toBe(200);
    const profile = await profileWhen("820982911946154508", (p) => p.eventCount >= 1);
    expect(profile.userId).toBe("820982911946154508");
    const events = ((await (await api(`/v1/customers/820982911946154508/events`, { headers: { authorization: `Bearer ${KEYS.read}` } })).json()) as { events: Record<string, any>[] }).events;
    // Past 2^53: the digits as a string; numbers that fit stay numbers.
    expect(events[0]!.properties).toEqual({ order_id: "115310627314723954", total: 1.5, small: 42 });
  });
});

describe("phones without a country code", () => {
  it("are read in the country of the address sent with them, then of the shopper's browser, with no default set", async () => {
    const withAddress = uid("fr");
    await ingest("/v1/identify", { userId: withAddress, traits: { phone: "06 12 34 56 78", address: { city: "Lyon", country: "France" } } });
    const fr = await profileWhen(withAddress, (p) => p.traits.phone !== undefined);
    expect(fr.traits.phone).toBe("+33612345678");
    expect(fr.traitIssues.phone).toBeUndefined();
    expect((await profileWhen("phone:+33612345678", () => true)).id).toBe(fr.id);

    // From the storefront (a browser: Origin), in Great Britain by Cloudflare's reading.
    const fromBrowser = uid("gb");
    const request = new Request(`http://rapport.test/v1/identify`, {
      method: "POST",
      headers: { authorization: basic(KEYS.write), "content-type": "application/json", origin: "https://shop.example" },
      body: JSON.stringify({ userId: fromBrowser, traits: { phone: "020 7183 8750" } }),
      cf: { country: "GB", timezone: "Europe/London" },
    } as RequestInit);
    expect((await (await import("cloudflare:workers")).exports.default.fetch(request)).status).toBe(200);
    expect((await profileWhen(fromBrowser, (p) => p.traits.phone !== undefined)).traits.phone).toBe("+442071838750");

    // Nothing says where: kept as sent, flagged, as before.
    const unknown = uid("nowhere");
    await ingest("/v1/identify", { userId: unknown, traits: { phone: "06 12 34 56 79" } });
    const none = await profileWhen(unknown, (p) => p.traits.phone !== undefined);
    expect(none.traits.phone).toBe("06 12 34 56 79");
    expect(none.traitIssues.phone).toBe("phone_invalid");
  });
});
