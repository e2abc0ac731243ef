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
import { UnionFind } from "./union-find";

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

/** The key of a pair of customers in `blocked`: `<smaller id>|<larger id>`. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** One person of the batch: its events (indexes), identifiers, and the existing customers it merges. */
interface Person {
  members: number[];
  identities: Map<string, Identity>;
  /** The customers its identifiers point to, the survivor-to-be first; empty for a new person. */
  owned: string[];
  messageId: string;
}

/** What the steps share: the batch's owners and rules, the customers merged so far, the refusals. */
interface Context {
  owners: ReadonlyMap<string, string>;
  rules: IdentityRules;
  blocked: ReadonlySet<string>;
  customers: CustomerSets;
  byPriority: (a: string, b: string) => number;
  refusals: Refusal[];
}

/** Existing customers merged within this batch, and the identities each merged set holds. */
class CustomerSets {
  private sets = new UnionFind();
  private identities = new Map<string, Identity[]>();
  constructor(private readonly byCustomer: ReadonlyMap<string, readonly Identity[]>) {}
  find = (customerId: string) => this.sets.find(customerId);
  identitiesOf(customerId: string): Identity[] {
    const root = this.find(customerId);
    if (!this.identities.has(root)) this.identities.set(root, [...(this.byCustomer.get(customerId) ?? [])]);
    return this.identities.get(root)!;
  }
  merge(a: string, b: string, combined: Identity[]): void {
    this.sets.union(a, b);
    this.identities.set(this.find(a), combined);
  }
}

export function resolveGroups(
  events: StoredEvent[],
  owners: ReadonlyMap<string, string>,
  identitiesByCustomer: ReadonlyMap<string, readonly Identity[]>,
  /** The id of a new customer, given its identifier keys. */
  mintId: (keys: readonly string[]) => string,
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
  const rank = (customerId: string) => bestRank(rules, identitiesByCustomer.get(customerId) ?? []);
  const ctx: Context = { owners, rules, blocked, customers: new CustomerSets(identitiesByCustomer), byPriority: (a, b) => rank(a) - rank(b) || a.localeCompare(b), refusals: [] };
  // 1. Events that share an identifier are one person.
  // 2. Customers that one person's identifiers point to merge, if the rules allow.
  const people = personsOf(eventIdentities).map((members) => planPerson(members, eventIdentities, events, ctx));
  // 3. Each set of merged customers has one survivor: the best identified, then the oldest.
  const survivorOf = survivors(people, ctx);
  // 4. Groups per survivor; new identities attach to it, within the one-userId rule.
  const groups = new Map<string, ResolvedGroup>();
  for (const person of people) {
    const first = person.owned[0];
    const customerId = first ? survivorOf.get(ctx.customers.find(first))! : mintId([...person.identities.keys()]);
    let group = groups.get(customerId);
    if (!group) {
      group = { customerId, isNew: !first, events: [], newIdentities: [], merges: [], conflicts: [] };
      groups.set(customerId, group);
    }
    for (const i of person.members) group.events.push(events[i]!);
    attachIdentities(group, person, ctx);
  }
  return { groups: [...groups.values()], refusals: ctx.refusals, unattributable };
}

/** The events (indexes) of each person: events sharing an identifier, transitively. Unidentified events are no one's. */
function personsOf(eventIdentities: readonly Identity[][]): number[][] {
  const sets = new UnionFind();
  const firstByKey = new Map<string, number>();
  eventIdentities.forEach((ids, i) => {
    sets.find(String(i));
    for (const id of ids) {
      const j = firstByKey.get(id.key);
      if (j === undefined) firstByKey.set(id.key, i);
      else sets.union(String(j), String(i));
    }
  });
  const components = new Map<string, number[]>();
  eventIdentities.forEach((ids, i) => {
    if (ids.length === 0) return;
    const root = sets.find(String(i));
    components.set(root, [...(components.get(root) ?? []), i]);
  });
  return [...components.values()];
}

/** The customers one person's identifiers point to, merged as far as the rules allow. */
function planPerson(members: number[], eventIdentities: readonly Identity[][], events: readonly StoredEvent[], ctx: Context): Person {
  const { owners, rules } = ctx;
  const identities = new Map<string, Identity>();
  for (const i of members) for (const id of eventIdentities[i]!) identities.set(id.key, id);
  const linking = [...identities.values()].filter((id) => owners.has(id.key));
  const messageId = events[members[0]!]!.messageId;
  // The customers the events point to, the one named by their most trusted identifier first
  // (a userId's owner before an email's), then the best identified, then the oldest id.
  const via = new Map<string, number>();
  for (const id of linking) via.set(owners.get(id.key)!, Math.min(via.get(owners.get(id.key)!) ?? Infinity, rankOf(rules, id.kind)));
  const found = [...via.keys()].sort((a, b) => via.get(a)! - via.get(b)! || ctx.byPriority(a, b));
  // A new identifier more trusted than every one linking the events to existing customers (a
  // new userId with an email another user's profile holds: families share emails) that those
  // customers cannot take (a limit) is a new person: a profile of its own, and the less
  // trusted identifiers stay where they are, refused.
  const fresh = [...identities.values()].filter((id) => !owners.has(id.key));
  const outranked = found[0] === undefined ? undefined : fresh.find((id) => rankOf(rules, id.kind) < bestRank(rules, linking) && brokenLimit(rules, [...ctx.customers.identitiesOf(found[0]!), id]));
  if (outranked) {
    ctx.refusals.push({ rule: `limit:${outranked.kind}`, customerIds: found, keys: [...identities.keys()].sort(), messageId });
    return { members, identities, owned: [], messageId };
  }
  for (const other of found.slice(1)) mergeInto(found[0]!, other, identities, messageId, ctx);
  return { members, identities, owned: found, messageId };
}

/** Merges `other` into `survivor`'s set unless an unmerge blocks the pair or a limit forbids it (then refused). */
function mergeInto(survivor: string, other: string, identities: ReadonlyMap<string, Identity>, messageId: string, ctx: Context): void {
  const { customers } = ctx;
  if (customers.find(other) === customers.find(survivor)) return;
  const keys = [...identities.keys()].sort();
  if (ctx.blocked.has(pairKey(survivor, other))) {
    ctx.refusals.push({ rule: "unmerged", customerIds: [survivor, other], keys, messageId });
    return;
  }
  const combined = [...customers.identitiesOf(survivor), ...customers.identitiesOf(other)];
  const broken = brokenLimit(ctx.rules, combined);
  if (broken) {
    ctx.refusals.push({ rule: `limit:${broken}`, customerIds: [survivor, other], keys, messageId });
    return;
  }
  customers.merge(survivor, other, combined);
}

/** The survivor of each set of merged customers (by set root): the best identified, then the oldest. */
function survivors(people: readonly Person[], ctx: Context): Map<string, string> {
  const survivorOf = new Map<string, string>();
  for (const c of [...new Set(people.flatMap((p) => p.owned))].sort(ctx.byPriority)) {
    const root = ctx.customers.find(c);
    if (!survivorOf.has(root)) survivorOf.set(root, c);
  }
  return survivorOf;
}

/**
 * A person's identifiers on its group: new ones attach (within the limits), ones owned by a
 * customer of the same merged set make that customer merge in, others are conflicts.
 */
function attachIdentities(group: ResolvedGroup, person: Person, ctx: Context): void {
  const { owners, rules, customers } = ctx;
  const first = person.owned[0];
  const held = first ? customers.identitiesOf(first) : [];
  // New identifiers in a stable order (most trusted first), so that a limit keeps the same one
  // whatever order the events came in.
  const unowned = [...person.identities.values()].filter((id) => !owners.has(id.key)).sort((x, y) => rankOf(rules, x.kind) - rankOf(rules, y.kind) || x.key.localeCompare(y.key));
  for (const id of unowned) {
    if (group.newIdentities.some((n) => n.key === id.key)) continue;
    if (brokenLimit(rules, [...held, ...group.newIdentities, id])) {
      ctx.refusals.push({ rule: `limit:${id.kind}`, customerIds: [group.customerId], keys: [id.key], messageId: person.messageId });
      continue;
    }
    group.newIdentities.push(id);
  }
  for (const id of person.identities.values()) {
    const owner = owners.get(id.key);
    if (owner === undefined) continue;
    if (customers.find(owner) !== customers.find(first ?? owner) || !first) {
      group.conflicts.push({ identity: id, ownerId: owner });
    } else if (owner !== group.customerId && !group.merges.some((m) => m.customerId === owner)) {
      group.merges.push({ customerId: owner, messageId: person.messageId, keys: [id.key] });
    }
  }
}
