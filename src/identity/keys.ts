/**
 * Identifiers of a customer and how an event names them. An identity key is `kind:value`:
 * `user_id:42`, `anonymous_id:3f2c…`, `email:ada@example.com`.
 */
import type { StoredEvent } from "../events/types";

export const IDENTITY_KINDS = ["user_id", "anonymous_id", "email"] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export interface Identity {
  key: string;
  kind: IdentityKind;
  value: string;
}

export function identity(kind: IdentityKind, value: string): Identity {
  const v = kind === "email" ? normalizeEmail(value) : value;
  return { key: `${kind}:${v}`, kind, value: v };
}

export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function emailOf(event: StoredEvent): string | null {
  const fromTraits = event.type === "identify" ? event.traits?.email : undefined;
  const fromContext = (event.context?.traits as Record<string, unknown> | undefined)?.email;
  const candidate = typeof fromTraits === "string" ? fromTraits : typeof fromContext === "string" ? fromContext : null;
  return candidate && EMAIL.test(candidate.trim()) ? candidate : null;
}

/**
 * The identities an event asserts. An alias's `previousId` may be an earlier userId or an
 * anonymousId: both candidates are looked up, and `resolvePreviousId` picks the one that exists.
 */
export function identitiesOf(event: StoredEvent): Identity[] {
  const out: Identity[] = [];
  if (event.userId) out.push(identity("user_id", event.userId));
  if (event.anonymousId) out.push(identity("anonymous_id", event.anonymousId));
  const email = emailOf(event);
  if (email) out.push(identity("email", email));
  return out;
}

/** The keys to look up for an event, including both readings of an alias's previousId. */
export function lookupKeysOf(event: StoredEvent): string[] {
  const keys = identitiesOf(event).map((i) => i.key);
  if (event.type === "alias" && event.previousId) {
    keys.push(identity("user_id", event.previousId).key, identity("anonymous_id", event.previousId).key);
  }
  return keys;
}

/** The identity an alias's previousId names: an existing userId, else an anonymousId. */
export function resolvePreviousId(previousId: string, owners: ReadonlyMap<string, string>): Identity {
  const asUser = identity("user_id", previousId);
  return owners.has(asUser.key) ? asUser : identity("anonymous_id", previousId);
}

/** Parses a path id: `anonymous_id:…`, `email:…`, `user_id:…`, a master id, or a bare userId. */
export function parseCustomerRef(ref: string): { masterId: string } | { identity: Identity } {
  const colon = ref.indexOf(":");
  if (colon > 0) {
    const kind = ref.slice(0, colon);
    if ((IDENTITY_KINDS as readonly string[]).includes(kind)) return { identity: identity(kind as IdentityKind, ref.slice(colon + 1)) };
  }
  if (/^cus_[0-9a-f]{28}$/.test(ref)) return { masterId: ref };
  return { identity: identity("user_id", ref) };
}
