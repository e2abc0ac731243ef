/**
 * Groups a batch's events by the customer they belong to. Events that share an identifier are
 * one person (union-find over identity keys); a group whose identifiers are all unknown becomes a
 * new customer. Pure: takes the current owners of the identity keys, returns the plan.
 */
import type { StoredEvent } from "../events/types";
import { identitiesOf, resolvePreviousId, type Identity } from "./keys";
import type { NormalizeOptions } from "./normalize";

export interface ResolvedGroup {
  customerId: string;
  isNew: boolean;
  events: StoredEvent[];
  /** Identities of this group that nobody owns yet: they are attached to the customer. */
  newIdentities: Identity[];
  /**
   * Identities owned by another customer than the one chosen. Merging profiles is the identity
   * service's job; until it runs, those identities stay where they are.
   */
  conflicts: { identity: Identity; ownerId: string }[];
}

const PRIORITY: Record<Identity["kind"], number> = { user_id: 0, email: 1, phone: 2, external: 3, anonymous_id: 4 };

export function resolveGroups(events: StoredEvent[], owners: ReadonlyMap<string, string>, mintId: () => string, options: NormalizeOptions = {}): ResolvedGroup[] {
  const parent = events.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const eventIdentities = events.map((e) => {
    const ids = identitiesOf(e, options);
    if (e.type === "alias" && e.previousId) ids.push(resolvePreviousId(e.previousId, owners));
    return ids;
  });
  const firstByKey = new Map<string, number>();
  eventIdentities.forEach((ids, i) => {
    for (const id of ids) {
      const j = firstByKey.get(id.key);
      if (j === undefined) firstByKey.set(id.key, i);
      else parent[find(i)] = find(j);
    }
  });

  const components = new Map<number, number[]>();
  events.forEach((_, i) => {
    const root = find(i);
    const list = components.get(root);
    if (list) list.push(i);
    else components.set(root, [i]);
  });

  const groups = new Map<string, ResolvedGroup>();
  for (const members of components.values()) {
    const identities = new Map<string, Identity>();
    for (const i of members) for (const id of eventIdentities[i]!) identities.set(id.key, id);
    const owned = [...identities.values()]
      .filter((id) => owners.has(id.key))
      .sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind] || owners.get(a.key)!.localeCompare(owners.get(b.key)!));
    const chosen = owned[0] ? owners.get(owned[0].key)! : null;
    const customerId = chosen ?? mintId();
    let group = groups.get(customerId);
    if (!group) {
      group = { customerId, isNew: chosen === null, events: [], newIdentities: [], conflicts: [] };
      groups.set(customerId, group);
    }
    for (const i of members) group.events.push(events[i]!);
    for (const id of identities.values()) {
      const owner = owners.get(id.key);
      if (owner === undefined) group.newIdentities.push(id);
      else if (owner !== customerId) group.conflicts.push({ identity: id, ownerId: owner });
    }
  }
  return [...groups.values()];
}
