import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../src/model/events";
import { applySendTime, DEFAULT_POPULATION_CURVE, estimateSendTime, localHour, mergeSendTime } from "../../src/profiles/send-time";
// Seeded (mulberry32): the simulation gives the same answer every run.
import { random } from "../../tools/sim/random";
import { ev } from "../trigger-helpers";
import { ingest, profileWhen, uid } from "../helpers";

const at = (iso: string, event: string, extra: Partial<StoredEvent> = {}) => ev({ type: "track", userId: "u1", event, messageId: `${event}-${iso}`, timestamp: iso, ...extra });

/** Engagements of one simulated customer who reads around `hour` (local): a share `focus` within an hour of it, the rest at any hour. */
function history(next: () => number, hour: number, events: number, focus = 0.6): StoredEvent[] {
  return Array.from({ length: events }, (_, i) => {
    const h = next() < focus ? (hour + Math.floor(next() * 3) - 1 + 24) % 24 : Math.floor(next() * 24);
    const day = 1 + Math.floor(next() * 28);
    const kind = next() < 0.7 ? "Email Opened" : "Email Link Clicked";
    return at(`2026-05-${String(day).padStart(2, "0")}T${String(h).padStart(2, "0")}:${String(Math.floor(next() * 60)).padStart(2, "0")}:00.000Z`, kind, { messageId: `m-${i}` });
  });
}

describe("the best hour to send", () => {
  it("counts engagement in the customer's own time zone", () => {
    expect(localHour(Date.parse("2026-06-01T16:30:00Z"), "Europe/Paris")).toBe(18);
    expect(localHour(Date.parse("2026-06-01T16:30:00Z"), "Not/AZone")).toBe(16);
    const state = applySendTime(undefined, [at("2026-06-01T16:30:00Z", "Email Opened", { context: { timezone: "America/New_York" } })]);
    expect(state?.zone?.[0]).toBe("America/New_York");
    expect(state?.hours[12]).toBe(1);
  });

  it("leaves out machine opens and scanners' clicks, and what says nothing about reading", () => {
    const state = applySendTime(undefined, [
      at("2026-06-01T03:00:00Z", "Email Opened", { properties: { apple_privacy_open: true } }),
      at("2026-06-01T03:00:01Z", "Email Link Clicked", { properties: { engagement_class: "scanner" } }),
      at("2026-06-01T03:00:02Z", "Product Viewed"),
    ]);
    expect(state).toBeUndefined();
  });

  it("does not depend on the order events arrive in or on which profile absorbs which", () => {
    const next = random(5);
    const events = history(next, 20, 30);
    const zone = at("2026-05-30T10:00:00Z", "Page Viewed", { context: { timezone: "Asia/Tokyo" } });
    const one = applySendTime(applySendTime(undefined, [zone, ...events.slice(0, 10)]), events.slice(10));
    const other = applySendTime(applySendTime(undefined, events.slice(10)), [...events.slice(0, 10), zone]);
    expect(one?.zone).toEqual(other?.zone);
    const a = applySendTime(undefined, events.slice(0, 15));
    const b = applySendTime(undefined, events.slice(15));
    expect(mergeSendTime(a, b)?.hours).toEqual(mergeSendTime(b, a)?.hours);
    expect(mergeSendTime(a, b)?.hours).toEqual(applySendTime(undefined, events)?.hours);
  });

  it("falls back to the population's curve without history, and finds the planted hour with enough of it", () => {
    const empty = estimateSendTime(undefined);
    expect(empty.engagements).toBe(0);
    const smoothedPeak = DEFAULT_POPULATION_CURVE.map((_, h, c) => 0.25 * c[(h + 23) % 24]! + 0.5 * c[h]! + 0.25 * c[(h + 1) % 24]!);
    expect(empty.bestHour).toBe(smoothedPeak.indexOf(Math.max(...smoothedPeak)));
    // 400 simulated customers with planted hours: the share whose estimate is within an hour of it.
    const accuracy = (events: number) => {
      const next = random(1000 + events);
      let right = 0;
      for (let c = 0; c < 400; c++) {
        const planted = Math.floor(next() * 24);
        const { bestHour } = estimateSendTime(applySendTime(undefined, history(next, planted, events)));
        const off = Math.min(Math.abs(bestHour - planted), 24 - Math.abs(bestHour - planted));
        if (off <= 1) right++;
      }
      return right / 400;
    };
    // By chance, 3 hours in 24: 12.5 %. A customer reading within an hour of their time 60 % of the time:
    expect(accuracy(2)).toBeLessThan(0.7);
    expect(accuracy(5)).toBeGreaterThan(0.8);
    expect(accuracy(10)).toBeGreaterThan(0.9);
    expect(accuracy(20)).toBeGreaterThan(0.95);
  });
});

describe("on the profile", () => {
  it("shows each customer's estimate, from the events the pipeline applied", async () => {
    const userId = uid("reader");
    const opens = ["2026-11-02T18:10:00Z", "2026-11-03T18:40:00Z", "2026-11-05T19:05:00Z"].map((timestamp, i) => ({ userId, event: "Email Opened", timestamp, messageId: uid(`open${i}`), context: { timezone: "Europe/Berlin" } }));
    expect((await ingest("/v1/batch", { batch: opens.map((o) => ({ type: "track", ...o })) })).status).toBe(200);
    const profile = await profileWhen(userId, (p) => p.counters.events["Email Opened"] === 3);
    expect(profile.sendTime).toMatchObject({ timeZone: "Europe/Berlin", engagements: 3 });
    // 18:10 and 18:40 UTC are 19:xx in Berlin, 19:05 is 20:05: the estimate sits on 19.
    expect(profile.sendTime.bestHour).toBe(19);
  });
});
