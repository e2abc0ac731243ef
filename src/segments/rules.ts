
import type { Model } from "../models/definition";
import { currentModels } from "../models/store";
import { currentRfmThresholds, type RfmThresholds } from "../models/rfm";
import { traitSpec, type CustomTrait } from "./custom-traits";
import { listCustomTraits } from "./custom-traits-store";
import { countSpec, distinctSpecs, type AggregateSpec } from "../profiles/aggregates";
import { eventConditionsOf, type Segment } from "./definition";
import { activeSegments } from "./store";

export interface SegmentRules {
  segments: Segment[];
  specs: AggregateSpec[];
  names: Map<string, string>;
  models: Model[];
  rfm: RfmThresholds | null;
  /** Enabled custom computed traits, with the aggregate each reads. */
  traits: { trait: CustomTrait; spec: AggregateSpec }[];
}

export function rulesOf(segments: Segment[], models: Model[] = [], rfm: RfmThresholds | null = null, customTraits: CustomTrait[] = []): SegmentRules {
  const enabled = segments.filter((s) => s.definition.enabled);
  const traits = customTraits.filter((t) => t.definition.enabled).map((trait) => ({ trait, spec: traitSpec(trait.definition) }));
  return {
    segments,
    traits,
    specs: distinctSpecs([...enabled.flatMap((s) => eventConditionsOf(s.definition.rule)).map(countSpec), ...traits.map((t) => t.spec)]),
    names: new Map(segments.map((s) => [s.id, s.definition.name])),
    models,
    rfm,
  };
}

export async function segmentRules(env: Env): Promise<SegmentRules> {
  const [segments, models, rfm, traits] = await Promise.all([activeSegments(env.DB), currentModels(env), currentRfmThresholds(env), listCustomTraits(env.DB)]);
  return rulesOf(segments, models, rfm, traits);
}
