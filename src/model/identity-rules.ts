/**
 * The identity rules: how many values of each kind of identifier one profile may hold, and which
 * kinds decide the survivor of a merge. Configured in wrangler.toml (`IDENTITY_LIMITS`,
 * `IDENTITY_PRIORITY`) and checked at the boundary.
 */
import { IDENTITY_KINDS, type Identity, type IdentityKind } from "./identity";

export interface IdentityRules {
  /** Most distinct values of a kind per profile; a kind not listed is unlimited. */
  limits: Partial<Record<IdentityKind, number>>;
  /** Kinds from most to least trusted: the survivor of a merge holds the most trusted one. */
  priority: IdentityKind[];
}

export const DEFAULT_IDENTITY_RULES: IdentityRules = { limits: { user_id: 1 }, priority: ["user_id", "email", "phone", "external", "anonymous_id"] };

/** `user_id=1,email=3` → limits; throws naming the bad part. */
export function parseLimits(text: string): IdentityRules["limits"] {
  const limits: IdentityRules["limits"] = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [kind, n] = part.split("=").map((x) => x.trim());
    if (!(IDENTITY_KINDS as readonly string[]).includes(kind ?? "") || !/^[1-9]\d*$/.test(n ?? "")) throw new Error(`"${part}" is not <kind>=<positive number> with a kind among ${IDENTITY_KINDS.join(", ")}`);
    limits[kind as IdentityKind] = Number(n);
  }
  return limits;
}

/** `user_id,email,phone,external,anonymous_id` → priority; kinds left out rank last. */
export function parsePriority(text: string): IdentityKind[] {
  const kinds = text.split(",").map((p) => p.trim()).filter(Boolean);
  for (const k of kinds) if (!(IDENTITY_KINDS as readonly string[]).includes(k)) throw new Error(`"${k}" is not one of ${IDENTITY_KINDS.join(", ")}`);
  return [...new Set([...(kinds as IdentityKind[]), ...IDENTITY_KINDS])];
}

export const rankOf = (rules: IdentityRules, kind: IdentityKind) => rules.priority.indexOf(kind);

/** The best rank among a customer's identities (lower is more trusted). */
export function bestRank(rules: IdentityRules, identities: readonly Identity[]): number {
  return Math.min(rules.priority.length, ...identities.map((i) => rankOf(rules, i.kind)));
}

/** The first kind whose limit these identities break, or null. */
export function brokenLimit(rules: IdentityRules, identities: Iterable<Identity>): IdentityKind | null {
  const values = new Map<IdentityKind, Set<string>>();
  for (const i of identities) values.set(i.kind, (values.get(i.kind) ?? new Set()).add(i.value));
  for (const [kind, set] of values) {
    const limit = rules.limits[kind];
    if (limit !== undefined && set.size > limit) return kind;
  }
  return null;
}
