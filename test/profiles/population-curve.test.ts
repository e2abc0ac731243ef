import { afterEach, describe, expect, it } from "vitest";
import { processEvents } from "../../src/pipeline/process";
import { refreshPopulationCurve } from "../../src/maintenance/population-curve";
import { curveFrom, DEFAULT_CURVE_WEIGHT, DEFAULT_POPULATION_CURVE, loadPopulationCurve, POPULATION_CURVE_KEY, resetPopulationCurve, usePopulationCurve } from "../../src/profiles/population-curve";
import { estimateSendTime } from "../../src/profiles/send-time";
import { env, uid } from "../helpers";
import { ev } from "../trigger-helpers";

afterEach(() => resetPopulationCurve());

const best = (curve: readonly number[]) => curve.indexOf(Math.max(...curve));

describe("the population curve", () => {
  it("starts as the default shape and follows the shop's own engagement once it outweighs it", () => {
    expect(best(curveFrom([]))).toBe(best(DEFAULT_POPULATION_CURVE));
    const early = new Array(24).fill(0);
    early[6] = DEFAULT_CURVE_WEIGHT / 50;
    expect(best(curveFrom(early))).toBe(best(DEFAULT_POPULATION_CURVE));
    early[6] = DEFAULT_CURVE_WEIGHT;
    expect(best(curveFrom(early))).toBe(6);
    // A customer without history gets the curve's best hour.
    usePopulationCurve(curveFrom(early));
    expect(estimateSendTime(undefined).bestHour).toBe(6);
  });

  it("is summed from what each commit added, once however often a batch is retried, and read by every isolate", async () => {
    const before = (await refreshPopulationCurve(env)).hours;
    // 60 early readers (06:xx UTC), each with a few opens.
    const events = Array.from({ length: 60 }, () => uid("early")).flatMap((userId) =>
      [1, 2, 3].map((d) => ev({ type: "track", userId, event: "Email Opened", messageId: uid("open"), timestamp: `2026-11-0${d}T06:1${d}:00.000Z`, properties: { email_id: uid("m") } })),
    );
    await processEvents(env, events);
    await processEvents(env, events, { redelivered: true });
    const learned = await refreshPopulationCurve(env);
    expect(learned.hours[6]! - before[6]!).toBe(180);
    expect(learned.engagements).toBeGreaterThanOrEqual(180);
    expect(await env.PROFILES.get(POPULATION_CURVE_KEY, "json")).toMatchObject({ hours: learned.hours });
    // Enough to move a shop's curve: 180 against a default worth 1,000, concentrated in one hour.
    // (An isolate reads it again ten minutes after its last read; this one read it during the batches.)
    resetPopulationCurve();
    await loadPopulationCurve(env.PROFILES);
    expect(estimateSendTime(undefined).bestHour).toBe(6);
  });
});
