/**
 * The shipped segments (the JSON files in recipes/, loadable with `npm run segments:load`):
 * high value, VIP, at risk and new prospects. Their thresholds are documented in docs/segments.md.
 */
import atRisk from "./recipes/at-risk.json";
import highValue from "./recipes/high-value.json";
import newProspects from "./recipes/new-prospects.json";
import vip from "./recipes/vip.json";
import { SegmentDefinition } from "./definition";

const files = { "high-value": highValue, vip, "at-risk": atRisk, "new-prospects": newProspects } as const;

/** Every recipe, validated (a broken recipe file fails at start-up, not when it is used). */
export const SEGMENT_RECIPES: Record<keyof typeof files, SegmentDefinition> = Object.fromEntries(Object.entries(files).map(([id, json]) => [id, SegmentDefinition.parse(json)])) as Record<keyof typeof files, SegmentDefinition>;
