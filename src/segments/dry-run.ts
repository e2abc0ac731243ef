
import { shards } from "../db/shards";
import { countCustomers } from "../profiles/store";
import { loadProfile } from "../profiles/store";
import { customerEvents } from "../profiles/events";
import { applyAggregates, countSpec, distinctSpecs, missingSpecs } from "../profiles/aggregates";
import { eventConditionsOf, traitsReferencedBy, type Rule } from "./definition";
import { holds } from "./evaluate";
import { currentSegments, type Membership } from "../model/membership";
import { lightRows, stateOfRow } from "./pass";
import { activeSegments, dependencyOrder } from "./store";
import { segmentRules } from "./rules";
import { scoresOf } from "../models/scores";

const PAGE = 1_000;
const SAMPLE = 10;

export interface DryRun {
  matched: number;
  scanned: number;
  total: number;
  complete: boolean;
  /** `matched` when complete; otherwise scaled to every profile. */
  estimatedMatches: number;
  /** A few of the matching customers, to check the rule does what was meant. */
  sample: string[];
}

export async function dryRun(env: Env, rule: Rule, options: { budgetMs?: number; now?: number } = {}): Promise<DryRun> {
  const d1 = env.DB;
  const now = options.now ?? Date.now();
  const started = Date.now();
  // The draft may only name segments that exist (and cannot be part of a cycle: it is not saved).
  dependencyOrder([...(await activeSegments(d1)), { id: "\u0000draft", version: 0, definition: { name: "draft", enabled: true, rule }, membersSince: now }]);
  const context = await segmentRules(env);
  const named = new Set(traitsReferencedBy(rule));
  const specs = distinctSpecs([...eventConditionsOf(rule).map(countSpec), ...context.traits.filter((t) => named.has(t.trait.id)).map((t) => t.spec)]);
  let after = "";
  let matched = 0;
  let scanned = 0;
  let complete = false;
  const sample: string[] = [];
  while (Date.now() - started < (options.budgetMs ?? 10_000)) {
    const rows = await lightRows(shards(env), after, PAGE);
    for (const row of rows) {
      const state = stateOfRow(row);
      const absent = state.eventCount > 0 ? missingSpecs(state.aggregates, specs) : [];
      if (absent.length > 0) {
        const profile = await loadProfile(shards(env), row.id);
        if (profile) state.aggregates = { ...state.aggregates, ...applyAggregates({}, absent, await customerEvents(env, profile), true) };
      }
      scanned++;
      if (holds(rule, state, now, new Set(currentSegments(JSON.parse(row.segments) as Membership)), scoresOf(context, state, now))) {
        matched++;
        if (sample.length < SAMPLE) sample.push(row.id);
      }
    }
    after = rows[rows.length - 1]?.id ?? after;
    if (rows.length < PAGE) {
      complete = true;
      break;
    }
  }
  const total = complete ? scanned : await countCustomers(shards(env));
  return { matched, scanned, total, complete, estimatedMatches: complete || scanned === 0 ? matched : Math.round((matched / scanned) * total), sample };
}
