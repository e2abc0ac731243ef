/**
 * Groups a batch's events by the customer they belong to, and plans merges. Events that share an
 * identifier are one person (union-find over identity keys). When the identifiers of one person
 * belong to several existing customers, those customers merge into one survivor, unless an
 * identity rule forbids it (one userId per profile): then the merge is refused and recorded, and
 * the events go to the customer with the highest-priority identifier. Pure.
 */
import type { StoredEvent } from "../events/types";
import { identitiesOf, isBlockedValue, resolvePreviousId, type Identity } from "./keys";
import type { NormalizeOptions } from "./normalize";

export interface Refusal {
  rule: "one_user_id" | "unmerged";
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

const PRIORITY: Record<Identity["kind"], number> = { user_id: 0, email: 1, phone: 2, external: 3, anonymous_id: 4 };

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
): Resolution {
  const eventIdentities = events.map((e) => {
    const ids = identitiesOf(e, options);
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
  const userIdsOf = (customerId: string) => new Set((identitiesByCustomer.get(customerId) ?? []).filter((i) => i.kind === "user_id").map((i) => i.value));
  const customerSets = new Sets();
  const setUserIds = new Map<string, Set<string>>();
  const userIdsOfSet = (customerId: string) => {
    const root = customerSets.find(customerId);
    if (!setUserIds.has(root)) setUserIds.set(root, userIdsOf(customerId));
    return setUserIds.get(root)!;
  };
  const rank = (customerId: string) => Math.min(5, ...(identitiesByCustomer.get(customerId) ?? []).map((i) => PRIORITY[i.kind]));
  const byPriority = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);
  const refusals: Refusal[] = [];
  const plans = [...components.values()].map((members) => {
    const identities = new Map<string, Identity>();
    for (const i of members) for (const id of eventIdentities[i]!) identities.set(id.key, id);
    const owned = [...new Set([...identities.values()].filter((id) => owners.has(id.key)).map((id) => owners.get(id.key)!))].sort(byPriority);
    const messageId = events[members[0]!]!.messageId;
    for (const other of owned.slice(1)) {
      if (customerSets.find(other) === customerSets.find(owned[0]!)) continue;
      if (blocked.has(pairKey(owned[0]!, other))) {
        refusals.push({ rule: "unmerged", customerIds: [owned[0]!, other], keys: [...identities.keys()].sort(), messageId });
        continue;
      }
      const combined = new Set([...userIdsOfSet(owned[0]!), ...userIdsOfSet(other)]);
      if (combined.size > 1) {
        refusals.push({ rule: "one_user_id", customerIds: [owned[0]!, other], keys: [...identities.keys()].sort(), messageId });
        continue;
      }
      customerSets.union(owned[0]!, other);
      setUserIds.set(customerSets.find(owned[0]!), combined);
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
    const userIds = first ? userIdsOfSet(first) : new Set<string>();
    for (const id of plan.identities.values()) {
      const owner = owners.get(id.key);
      if (owner === undefined) {
        if (id.kind === "user_id" && userIds.size > 0 && !userIds.has(id.value)) {
          refusals.push({ rule: "one_user_id", customerIds: [customerId], keys: [id.key], messageId: plan.messageId });
          continue;
        }
        if (id.kind === "user_id") userIds.add(id.value);
        if (!group.newIdentities.some((n) => n.key === id.key)) group.newIdentities.push(id);
      } else if (customerSets.find(owner) !== customerSets.find(first ?? owner) || !first) {
        group.conflicts.push({ identity: id, ownerId: owner });
      } else if (owner !== customerId && !group.merges.some((m) => m.customerId === owner)) {
        group.merges.push({ customerId: owner, messageId: plan.messageId, keys: [id.key] });
      }
    }
  }
  return { groups: [...groups.values()], refusals, unattributable };
}
