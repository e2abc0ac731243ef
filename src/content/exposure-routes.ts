/**
 * The one rule every content route records a person's first view of an experiment's variant by
 * (docs/experiments.md): only a running experiment, only a person, only the first time (the
 * profile says whether there was one; a duplicate is dropped by the customer's object anyway).
 */
import type { Context } from "hono";
import type { AppEnv } from "../api/context";
import type { ServedExperiment } from "../experiments/serving";
import { recordExposure } from "../ingest/experiment-exposure";
import { log } from "../kernel/log";
import type { Shown } from "./render";
import type { Requester } from "./requesters";

/** The headers that say which variant a render showed (to ESPs' logs and to tests; nothing about the customer). */
export function variantHeaders(shown: Shown | undefined): Record<string, string> {
  return shown ? { "x-rapport-experiment": shown.experiment, "x-rapport-variant": shown.variant } : {};
}

/** Records the exposure when a person (not a machine) is shown a running experiment's variant for the first time. */
export function exposeIfFirst(c: Context<AppEnv>, experiment: ServedExperiment | undefined, shown: Shown | undefined, requester: Requester, via: string): void {
  if (!experiment || !shown?.counts || shown.exposedBefore || requester.kind !== "human") return;
  const x = { experiment, variant: shown.variant, via, userAgent: c.req.header("user-agent") ?? null, ip: c.req.header("cf-connecting-ip") ?? null };
  c.executionCtx.waitUntil(recordExposure(c.env, shown.customerId, shown.profile, x, c.get("requestId")).catch((err: unknown) => log("error", "experiments.exposure_not_recorded", { experiment: shown.experiment, error: String(err) })));
}

