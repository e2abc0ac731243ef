/** Conditions a trigger puts on the customer's profile at the moment it fires. Pure. */
import type { CustomerProfile } from "../profiles/document";
import type { Condition } from "./definition";
import { compare, valueAt } from "../model/rules";

/** The first condition the profile fails, described, or null when all hold. */
export function failedCondition(conditions: readonly Condition[], profile: Pick<CustomerProfile, "traits" | "consent" | "email" | "phone" | "userId">): string | null {
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
