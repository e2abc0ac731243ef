/**
 * What the pipeline needs to evaluate segments, read once per consumer batch: the segments in
 * dependency order, the event counts their rules ask about, their names (for the events), and
 * the predictive models (scores are written with every profile, and rules compare them).
 */
import { database } from "../db/client";
import type { Model } from "../models/definition";
import { currentModels } from "../models/store";
import { currentRfmThresholds, type RfmThresholds } from "./rfm";
import { specsOf, type AggregateSpec } from "./aggregates";
import { eventConditionsOf, type Segment } from "./definition";
import { activeSegments } from "./store";

export interface SegmentRules {
  segments: Segment[];
  specs: AggregateSpec[];
  names: Map<string, string>;
  models: Model[];
  rfm: RfmThresholds | null;
}

export function rulesOf(segments: Segment[], models: Model[] = [], rfm: RfmThresholds | null = null): SegmentRules {
  const enabled = segments.filter((s) => s.definition.enabled);
  return {
    segments,
    specs: specsOf(enabled.flatMap((s) => eventConditionsOf(s.definition.rule))),
    names: new Map(segments.map((s) => [s.id, s.definition.name])),
    models,
    rfm,
  };
}

export async function segmentRules(env: Env): Promise<SegmentRules> {
  const [segments, models, rfm] = await Promise.all([activeSegments(database(env.DB)), currentModels(env), currentRfmThresholds(env)]);
  return rulesOf(segments, models, rfm);
}
