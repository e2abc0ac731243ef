/**
 * Identifiers of a customer and how an event names them. An identity key is `kind:value`:
 * `user_id:42`, `anonymous_id:3f2c…`, `email:ada@example.com`, `phone:+33612345678`,
 * `external:shopify_customer_id:8123` (from `context.externalIds`, as Segment sends them).
 */
import type { StoredEvent } from "../model/events";
import { canonicalTraitName, normalizeEmail, normalizePhone, type NormalizeOptions } from "./normalize";
import { phoneCountryOf } from "./phone-country";
import { IDENTITY_KINDS, identity, type Identity, type IdentityKind } from "../model/identity";

/**
 * Identifier values that say "no identifier": SDKs and integrations send them for unknown users.
 * They never link anything (linking on them would merge strangers).
 */
const BLOCKED_VALUES = new Set(["", "0", "-1", "null", "undefined", "anonymous", "unknown", "none", "nil", "n/a", "guest"]);

export function isBlockedValue(value: string): boolean {
  return BLOCKED_VALUES.has(value.trim().toLowerCase());
}

/** The first trait (in `traits`, then `context.traits`) whose canonical name is `name`. */
function traitOf(event: StoredEvent, name: string): unknown {
  const sources = [event.type === "identify" ? event.traits : undefined, event.context?.traits as Record<string, unknown> | undefined];
  for (const source of sources) {
    if (!source || typeof source !== "object") continue;
    for (const [key, value] of Object.entries(source)) if (canonicalTraitName(key) === name && value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** `context.externalIds: [{ id, type }]` → `external:<type>:<id>` identities. */
function externalIdsOf(event: StoredEvent): Identity[] {
  const list = event.context?.externalIds;
  if (!Array.isArray(list)) return [];
  const out: Identity[] = [];
  for (const item of list) {
    const { id, type } = (item ?? {}) as { id?: unknown; type?: unknown };
    if ((typeof id === "string" || typeof id === "number") && typeof type === "string" && !isBlockedValue(String(id)) && type.trim()) {
      out.push(identity("external", `${type.trim()}:${String(id).trim()}`));
    }
  }
  return out;
}

/**
 * The identities an event asserts. An alias's `previousId` may be an earlier userId or an
 * anonymousId: both candidates are looked up, and `resolvePreviousId` picks the one that exists.
 */
export function identitiesOf(event: StoredEvent, options: NormalizeOptions = {}): readonly Identity[] {
  // The pipeline asks for an event's identities several times in a batch (lookup, grouping);
  // phone parsing is not free, so answers are kept per options object (one per batch attempt).
  let cache = memo.get(options);
  if (!cache) {
    cache = new WeakMap();
    memo.set(options, cache);
  }
  const hit = cache.get(event);
  if (hit) return hit;
  const out = computeIdentities(event, options);
  cache.set(event, out);
  return out;
}

const memo = new WeakMap<NormalizeOptions, WeakMap<StoredEvent, Identity[]>>();

function computeIdentities(event: StoredEvent, options: NormalizeOptions): Identity[] {
  const out: Identity[] = [];
  if (event.userId && !isBlockedValue(event.userId)) out.push(identity("user_id", event.userId));
  if (event.anonymousId && !isBlockedValue(event.anonymousId)) out.push(identity("anonymous_id", event.anonymousId));
  const email = normalizeEmail(traitOf(event, "email"));
  if (email.ok) out.push(identity("email", email.value as string));
  const phoneTrait = traitOf(event, "phone");
  if (phoneTrait !== undefined) {
    const phone = normalizePhone(phoneTrait, phoneCountryOf(event, options.defaultPhoneCountry));
    if (phone.ok) out.push(identity("phone", phone.value as string));
  }
  out.push(...externalIdsOf(event));
  return out;
}

/** The keys to look up for an event, including both readings of an alias's previousId. */
export function lookupKeysOf(event: StoredEvent, options: NormalizeOptions = {}): string[] {
  const keys = identitiesOf(event, options).map((i) => i.key);
  if (event.type === "alias" && event.previousId && !isBlockedValue(event.previousId)) {
    keys.push(identity("user_id", event.previousId).key, identity("anonymous_id", event.previousId).key);
  }
  return keys;
}

/** The identity an alias's previousId names: an existing userId, else an anonymousId. */
export function resolvePreviousId(previousId: string, owners: ReadonlyMap<string, string>): Identity {
  const asUser = identity("user_id", previousId);
  return owners.has(asUser.key) ? asUser : identity("anonymous_id", previousId);
}

/**
 * Parses a path id: `anonymous_id:…`, `email:…`, `phone:…`, `external:<type>:<id>`, `user_id:…`,
 * a master id, or a bare userId. Phone numbers are looked up in E.164 (`+33612345678`).
 */
export function parseCustomerRef(ref: string, options: NormalizeOptions = {}): { masterId: string } | { identity: Identity } {
  const colon = ref.indexOf(":");
  if (colon > 0) {
    const kind = ref.slice(0, colon);
    const value = ref.slice(colon + 1);
    if (kind === "phone") {
      const phone = normalizePhone(value, options.defaultPhoneCountry);
      return { identity: identity("phone", phone.ok ? (phone.value as string) : value) };
    }
    if ((IDENTITY_KINDS as readonly string[]).includes(kind)) return { identity: identity(kind as IdentityKind, value) };
  }
  if (/^cus_[0-9a-f]{28}$/.test(ref)) return { masterId: ref };
  return { identity: identity("user_id", ref) };
}
