/**
 * Groups a batch's events by the customer they belong to, and plans merges. Events that share an
 * identifier are one person (union-find over identity keys). When the identifiers of one person
 * belong to several existing customers, those customers merge into one survivor, unless an
 * identity rule forbids it (a limit per kind of identifier, by default one userId per profile):
 * then the merge is refused and recorded, and the events go to the customer with the most
 * trusted identifier. Pure.
 */
import type { StoredEvent } from "../model/events";
import { identitiesOf, isBlockedValue, resolvePreviousId } from "./keys";
import type { Identity } from "../model/identity";
import type { NormalizeOptions } from "./normalize";
import { bestRank, brokenLimit, DEFAULT_IDENTITY_RULES, rankOf, type IdentityRules } from "../model/identity-rules";

export interface Refusal {
  /** `limit:<kind>` (a profile would hold too many values of that kind) or `unmerged`. */
  rule: `limit:${Identity["kind"]}` | "unmerged";
  customerIds: string[];
  keys: string[];
  messageId: string;
}

export interface ResolvedGroup {
  customerId: string;
  isNew: boolean;
  events: StoredEvent[];
  /** Identities of this group that nobody owns yet: they are attached to the customer. */
  newIdentities: Identity[];
  /** Existing customers that merge into this one, with the event that linked them. */
  merges: { customerId: string; messageId: string; keys: string[] }[];
  /** Identities owned by a customer that could not be merged (a refusal says why). */
  conflicts: { identity: Identity; ownerId: string }[];
}

export interface Resolution {
  groups: ResolvedGroup[];
  refusals: Refusal[];
  /** Events with no usable identifier (every one blocked): they cannot be attributed. */
  unattributable: StoredEvent[];
}

/** Union-find over string ids. */
class Sets {
  private parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(x, root);
    return root;
  }
  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

/** The key of a pair of customers in `blocked`: `<smaller id>|<larger id>`. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export function resolveGroups(
  events: StoredEvent[],
  owners: ReadonlyMap<string, string>,
  identitiesByCustomer: ReadonlyMap<string, readonly Identity[]>,
  mintId: () => string,
  options: NormalizeOptions = {},
  blocked: ReadonlySet<string> = new Set(),
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): Resolution {
  const eventIdentities = events.map((e) => {
    const ids = [...identitiesOf(e, options)];
    if (e.type === "alias" && e.previousId && !isBlockedValue(e.previousId)) ids.push(resolvePreviousId(e.previousId, owners));
    return ids;
  });
  const unattributable = events.filter((_, i) => eventIdentities[i]!.length === 0);

  // 1. Events that share an identifier are one person.
  const eventSets = new Sets();
  const firstByKey = new Map<string, number>();
  eventIdentities.forEach((ids, i) => {
    eventSets.find(String(i));
    for (const id of ids) {
      const j = firstByKey.get(id.key);
      if (j === undefined) firstByKey.set(id.key, i);
      else eventSets.union(String(j), String(i));
    }
  });
  const components = new Map<string, number[]>();
  events.forEach((_, i) => {
    if (eventIdentities[i]!.length === 0) return;
    const root = eventSets.find(String(i));
    components.set(root, [...(components.get(root) ?? []), i]);
  });

  // 2. Customers that one person's identifiers point to merge, if the rules allow.
  const customerSets = new Sets();
  const setIdentities = new Map<string, Identity[]>();
  const identitiesOfSet = (customerId: string) => {
    const root = customerSets.find(customerId);
    if (!setIdentities.has(root)) setIdentities.set(root, [...(identitiesByCustomer.get(customerId) ?? [])]);
    return setIdentities.get(root)!;
  };
  const rank = (customerId: string) => bestRank(rules, identitiesByCustomer.get(customerId) ?? []);
  const byPriority = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);
  const refusals: Refusal[] = [];
  const plans = [...components.values()].map((members) => {
    const identities = new Map<string, Identity>();
    for (const i of members) for (const id of eventIdentities[i]!) identities.set(id.key, id);
    const linking = [...identities.values()].filter((id) => owners.has(id.key));
    const messageId = events[members[0]!]!.messageId;
    // The customers the events point to, the one named by their most trusted identifier first
    // (a userId's owner before an email's), then the best identified, then the oldest id.
    const via = new Map<string, number>();
    for (const id of linking) via.set(owners.get(id.key)!, Math.min(via.get(owners.get(id.key)!) ?? Infinity, rankOf(rules, id.kind)));
    const found = [...via.keys()].sort((a, b) => via.get(a)! - via.get(b)! || byPriority(a, b));
    // A new identifier more trusted than every one linking the events to existing customers (a
    // new userId with an email another user's profile holds: families share emails) that those
    // customers cannot take (a limit) is a new person: a profile of its own, and the less
    // trusted identifiers stay where they are, refused.
    const fresh = [...identities.values()].filter((id) => !owners.has(id.key));
    const outranked = found[0] === undefined ? undefined : fresh.find((id) => rankOf(rules, id.kind) < bestRank(rules, linking) && brokenLimit(rules, [...identitiesOfSet(found[0]!), id]));
    if (outranked) {
      refusals.push({ rule: `limit:${outranked.kind}`, customerIds: found, keys: [...identities.keys()].sort(), messageId });
      return { members, identities, owned: [] as string[], messageId };
    }
    const owned = found;
    for (const other of owned.slice(1)) {
      if (customerSets.find(other) === customerSets.find(owned[0]!)) continue;
      if (blocked.has(pairKey(owned[0]!, other))) {
        refusals.push({ rule: "unmerged", customerIds: [owned[0]!, other], keys: [...identities.keys()].sort(), messageId });
        continue;
      }
      const combined = [...identitiesOfSet(owned[0]!), ...identitiesOfSet(other)];
      const broken = brokenLimit(rules, combined);
      if (broken) {
        refusals.push({ rule: `limit:${broken}`, customerIds: [owned[0]!, other], keys: [...identities.keys()].sort(), messageId });
        continue;
      }
      customerSets.union(owned[0]!, other);
      setIdentities.set(customerSets.find(owned[0]!), combined);
    }
    return { members, identities, owned, messageId };
  });

  // 3. Each set of merged customers has one survivor: the best identified, then the oldest.
  const survivorOf = new Map<string, string>();
  const allOwned = [...new Set(plans.flatMap((p) => p.owned))].sort(byPriority);
  for (const c of allOwned) {
    const root = customerSets.find(c);
    if (!survivorOf.has(root)) survivorOf.set(root, c);
  }

  // 4. Groups per survivor; new identities attach to it, within the one-userId rule.
  const groups = new Map<string, ResolvedGroup>();
  for (const plan of plans) {
    const first = plan.owned[0];
    const customerId = first ? survivorOf.get(customerSets.find(first))! : mintId();
    let group = groups.get(customerId);
    if (!group) {
      group = { customerId, isNew: !first, events: [], newIdentities: [], merges: [], conflicts: [] };
      groups.set(customerId, group);
    }
    for (const i of plan.members) group.events.push(events[i]!);
    const held = first ? identitiesOfSet(first) : [];
    // New identifiers in a stable order (most trusted first), so that a limit keeps the same one
    // whatever order the events came in.
    const unowned = [...plan.identities.values()].filter((id) => !owners.has(id.key)).sort((x, y) => rankOf(rules, x.kind) - rankOf(rules, y.kind) || x.key.localeCompare(y.key));
    for (const id of unowned) {
      if (group.newIdentities.some((n) => n.key === id.key)) continue;
      if (brokenLimit(rules, [...held, ...group.newIdentities, id])) {
        refusals.push({ rule: `limit:${id.kind}`, customerIds: [customerId], keys: [id.key], messageId: plan.messageId });
        continue;
      }
      group.newIdentities.push(id);
    }
    for (const id of plan.identities.values()) {
      const owner = owners.get(id.key);
      if (owner === undefined) continue;
      if (customerSets.find(owner) !== customerSets.find(first ?? owner) || !first) {
        group.conflicts.push({ identity: id, ownerId: owner });
      } else if (owner !== customerId && !group.merges.some((m) => m.customerId === owner)) {
        group.merges.push({ customerId: owner, messageId: plan.messageId, keys: [id.key] });
      }
    }
  }
  return { groups: [...groups.values()], refusals, unattributable };
}
