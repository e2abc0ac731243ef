/**
 * What the pipeline needs to evaluate segments, read once per consumer batch: the segments in
 * dependency order, the event counts their rules ask about, and their names (for the events).
 */
import type { Database } from "../db/client";
import { specsOf, type AggregateSpec } from "./aggregates";
import { eventConditionsOf, type Segment } from "./definition";
import { activeSegments } from "./store";

export interface SegmentRules {
  segments: Segment[];
  specs: AggregateSpec[];
  names: Map<string, string>;
}

export function rulesOf(segments: Segment[]): SegmentRules {
  const enabled = segments.filter((s) => s.definition.enabled);
  return {
    segments,
    specs: specsOf(enabled.flatMap((s) => eventConditionsOf(s.definition.rule))),
    names: new Map(segments.map((s) => [s.id, s.definition.name])),
  };
}

export async function segmentRules(db: Database): Promise<SegmentRules> {
  return rulesOf(await activeSegments(db));
}
