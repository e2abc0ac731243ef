/** Conditions a trigger puts on the customer's profile at the moment it fires. Pure. */
import type { Contact } from "../profiles/document";
import type { Condition, Trigger } from "./definition";
import { compare, valueAt } from "../model/rules";

/** The first condition the profile fails, described, or null when all hold. */
export function failedCondition(conditions: readonly Condition[], profile: Contact): string | null {
  for (const c of conditions) {
    if ("trait" in c) {
      // email, phone and userId are also top-level fields of the profile (from identities).
      const top = c.trait === "email" || c.trait === "phone" || c.trait === "userId" ? profile[c.trait] : undefined;
      const actual = valueAt(profile.traits, c.trait) ?? top;
      if (!compare(actual, c.op, c.value)) return `trait ${c.trait} ${c.op}${c.value === undefined ? "" : ` ${JSON.stringify(c.value)}`}`;
    } else {
      const given = profile.consent?.categoryPreferences[c.consent];
      const ok = c.require === "granted" ? given === true : given !== false;
      if (!ok) return `consent ${c.consent} ${c.require}`;
    }
  }
  return null;
}

/**
 * Can the trigger ever send to this customer as the profile stands? Its `exists` conditions on
 * traits (an email address to write to) hold. Until they do, the customer's events start none of
 * its timers: a visitor nobody can write to costs no Durable Object call and no audience row. When
 * they come to hold, the timers start from the customer's stored history (see IngestInput.replay).
 * Only `exists` gates this: other conditions can change either way before a timer fires, and are
 * checked then.
 */
export function canReach(trigger: Trigger, profile: Contact): boolean {
  const gates = trigger.definition.conditions.filter((c) => "trait" in c && c.op === "exists");
  return gates.length === 0 || failedCondition(gates, profile) === null;
}
