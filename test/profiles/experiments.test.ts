import { describe, expect, it } from "vitest";
import { applyEvents, emptyProfile } from "../../src/profiles/apply";
import { applyExperimentEvents, EXPOSURE_EVENT, mergeExperimentRecords } from "../../src/profiles/experiments";
import { mergeStates } from "../../src/profiles/merge";
import type { StoredEvent } from "../../src/model/events";
import { ev, HOUR } from "../trigger-helpers";

const T0 = Date.parse("2026-11-01T10:00:00Z");
const at = (h: number) => new Date(T0 + h * HOUR).toISOString();
const exposure = (variant: string, h: number, extra: Record<string, unknown> = {}, sourceId = "rapport-content"): StoredEvent =>
  ev({ type: "track", userId: "u1", event: EXPOSURE_EVENT, messageId: `x-${variant}-${h}`, sourceId, timestamp: at(h), properties: { experiment_id: "subject", variation_id: variant, conversion_window_hours: 48, ...extra } });
const order = (h: number, revenue: number, id = `o-${h}`): StoredEvent => ev({ type: "track", userId: "u1", event: "Order Completed", messageId: id, timestamp: at(h), properties: { order_id: id, revenue } });
const event = (name: string, h: number, properties: Record<string, unknown> = {}): StoredEvent => ev({ type: "track", userId: "u1", event: name, messageId: `${name}-${h}`, timestamp: at(h), properties });

describe("a customer's part in an experiment", () => {
  it("keeps the first variant shown, whatever order the exposures arrive in", () => {
    const late = exposure("b", 5);
    const early = exposure("a", 1);
    const one = applyExperimentEvents(applyExperimentEvents(undefined, [late]), [early]);
    const other = applyExperimentEvents(applyExperimentEvents(undefined, [early]), [late]);
    expect(one?.subject?.variant).toBe("a");
    expect(other).toEqual(one);
  });

  it("counts conversions with their revenue, clicks on the experiment and guardrails within the window after exposure", () => {
    const records = applyExperimentEvents(undefined, [
      order(0, 99), // before the exposure: not the variant's doing
      exposure("b", 1),
      order(2, 30),
      order(20, 12.5),
      order(50, 1000), // after the 48-hour window
      event("Email Link Clicked", 3, { experiment_id: "subject" }),
      event("Email Link Clicked", 3.5, { experiment_id: "another" }),
      event("Unsubscribed", 4),
    ]);
    expect(records?.subject).toMatchObject({ variant: "b", conversions: 2, revenue: 4250, clicks: 1, unsubscribes: 1, complaints: 0, until: T0 + 49 * HOUR });
  });

  it("ignores an Experiment Viewed a client sends: only Rapport's own exposures count", () => {
    expect(applyExperimentEvents(undefined, [exposure("b", 1, {}, "key_test")])).toBeUndefined();
  });

  it("counts another conversion event when the experiment says so", () => {
    const records = applyExperimentEvents(undefined, [exposure("a", 0, { conversion_event: "Signed Up" }), event("Signed Up", 1), order(2, 40)]);
    expect(records?.subject).toMatchObject({ conversions: 1, revenue: 0 });
  });

  it("lives on the profile: applied with the other events and merged without depending on which profile absorbs which", () => {
    const a = applyEvents(emptyProfile(), [exposure("a", 1), order(2, 10)]);
    const b = applyEvents(emptyProfile(), [exposure("b", 3), order(4, 20, "o-b")]);
    const ab = mergeStates(a, b);
    expect(ab.experiments).toEqual(mergeStates(b, a).experiments);
    expect(ab.experiments?.subject).toMatchObject({ variant: "a", conversions: 2, revenue: 3000 });
    expect(mergeExperimentRecords(undefined, a.experiments)).toBe(a.experiments);
  });
});
