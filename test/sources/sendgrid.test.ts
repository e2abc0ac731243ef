import { describe, expect, it } from "vitest";
import recipe from "../../src/sources/generic/recipes/sendgrid-events.json";
import { derToRaw } from "../../src/kernel/ecdsa";
import { admin, api, eventually, uid } from "../helpers";

/** The private half of the key pair whose public key the tests' env holds (made for the tests only). */
const PRIVATE_KEY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXdufbqKVrw57aZZ4A6Eosvww5YZSbSCn6lVFTc45X6GhRANCAAQxd32eLgjIpBxe1rM4nDGsskw5sD0tVdU3JNO3iqPt42xVEcnREB/YmmhIfAsgZuKqp8SmESDfM67lOMPZBvlJ";

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** r‖s as DER, the way SendGrid sends it (each integer minimal, with a 0 in front when its top bit is set). */
function rawToDer(raw: Uint8Array): Uint8Array {
  const int = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    const v = x[i]! & 0x80 ? [0, ...x.subarray(i)] : [...x.subarray(i)];
    return [0x02, v.length, ...v];
  };
  const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

async function signed(body: string, timestamp: string): Promise<string> {
  const key = await crypto.subtle.importKey("pkcs8", Uint8Array.from(atob(PRIVATE_KEY), (c) => c.charCodeAt(0)), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(timestamp + body)));
  return b64(rawToDer(raw));
}

async function post(source: string, events: unknown[], tamper = false) {
  const body = JSON.stringify(events);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = await signed(body, timestamp);
  return api(`/v1/sources/${source}/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-twilio-email-event-webhook-signature": signature, "x-twilio-email-event-webhook-timestamp": tamper ? String(Number(timestamp) + 1) : timestamp },
    body,
  });
}

describe("SendGrid's event webhook, as a declared source", () => {
  it("unpacks DER signatures, whatever the length of their integers", () => {
    const raw = new Uint8Array(64).fill(0x80);
    raw.set([0, 0, 1], 32);
    expect([...derToRaw(rawToDer(raw))!]).toEqual([...raw]);
    expect(derToRaw(new Uint8Array([0x30, 2, 2, 0]))).toBeNull();
  });

  it("verifies SendGrid's signature and records its deliveries, opens (machine ones flagged), clicks and bounces for the message's trigger", async () => {
    const source = uid("sendgrid");
    expect((await admin(`/v1/sources/${source}`, { method: "PUT", body: JSON.stringify(recipe) })).status).toBe(201);
    const email = `${uid("reader")}@example.com`;
    const trigger = uid("trg");
    const now = Math.floor(Date.now() / 1000);
    const base = { email, sg_message_id: `${uid("sg")}.filter0001`, rapport_trigger_id: trigger, rapport_delivery_id: uid("dlv") };
    const events = [
      { ...base, event: "processed", timestamp: now - 60, sg_event_id: uid("e") },
      { ...base, event: "delivered", timestamp: now - 50, sg_event_id: uid("e") },
      // A link scanner at the receiving server clicks as the message lands.
      { ...base, event: "click", timestamp: now - 50, url: "https://shop.example/a", sg_event_id: uid("e") },
      { ...base, event: "open", timestamp: now - 49, sg_machine_open: true, sg_event_id: uid("e") },
      { ...base, event: "open", timestamp: now - 20, sg_machine_open: false, useragent: "Mozilla/5.0 (iPhone)", sg_event_id: uid("e") },
      { ...base, event: "click", timestamp: now - 10, url: "https://shop.example/a", sg_event_id: uid("e") },
      { ...base, event: "someday_new_event", timestamp: now, sg_event_id: uid("e") },
    ];
    expect((await post(source, events, true)).status).toBe(401);
    const res = await post(source, events);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 6, quarantined: 1 });
    // SendGrid retries: nothing counts twice.
    expect((await post(source, events)).status).toBe(200);

    const line = await eventually(async () => {
      const body = (await (await admin("/v1/reports/engagement?by=trigger")).json()) as { lines: Record<string, number | string>[] };
      const l = body.lines.find((x) => x.key === trigger);
      return l && l.clicks === 1 && l.machineOpens === 1 ? l : null;
    }, "the trigger's report line");
    expect(line).toMatchObject({ delivered: 1, reached: 1, machineOpens: 1, opens: 1, uniqueOpens: 1, clicks: 1, uniqueClicks: 1, scannerClicks: 1, recipients: 1, openRate: 1 });
  });
});
