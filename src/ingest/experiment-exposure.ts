/**
 * The first time a person sees an experiment's variant (an open-time image, the open pixel, or a
 * click through its block) becomes an `Experiment Viewed` event (Segment's spec: experiment_id,
 * variation_id), recorded once per customer and experiment: its messageId is derived from both,
 * so every later sighting is a duplicate the customer's object drops, and a render whose profile
 * already records the exposure sends nothing at all.
 */
import type { ServedExperiment } from "../experiments/serving";
import { EXPOSURE_EVENT } from "../profiles/experiments";
import type { CustomerProfile } from "../profiles/document";
import { queueCustomerEvent } from "./customer-event";

export const exposureMessageId = (experimentId: string, customerId: string) => `xv:${experimentId}:${customerId}`;

export interface Exposure {
  experiment: ServedExperiment;
  variant: string;
  /** What showed it: `image`, `pixel` or `click`. */
  via: string;
  userAgent: string | null;
  ip: string | null;
}

export async function recordExposure(env: Env, customerId: string, profile: CustomerProfile, x: Exposure, requestId: string): Promise<boolean> {
  const { definition: d } = x.experiment;
  const properties = {
    experiment_id: x.experiment.id,
    experiment_version: x.experiment.version,
    variation_id: x.variant,
    block_id: d.block,
    exposed_via: x.via,
    // Outcomes are counted within this window after the exposure, on the profile (profiles/experiments.ts).
    conversion_event: d.metric.event,
    conversion_window_hours: d.metric.windowHours,
  };
  return queueCustomerEvent(env, profile, { event: EXPOSURE_EVENT, messageId: exposureMessageId(x.experiment.id, customerId), properties, userAgent: x.userAgent, ip: x.ip }, requestId);
}
