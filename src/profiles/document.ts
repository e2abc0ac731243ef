/**
 * The profile as `GET /v1/customers/{id}` serves it and as the KV snapshot stores it.
 */
import { z } from "zod";
import type { Identity } from "../identity/keys";
import type { ProfileState } from "./apply";

export const CustomerProfile = z.object({
  id: z.string().describe("Master customer id"),
  userId: z.string().nullable().describe("The customer's userId, if known"),
  email: z.string().nullable(),
  identities: z.object({
    userIds: z.array(z.string()),
    anonymousIds: z.array(z.string()),
    emails: z.array(z.string()),
  }),
  traits: z.record(z.string(), z.unknown()),
  traitsUpdatedAt: z.record(z.string(), z.string()).describe("Event time of each trait's value"),
  counters: z.object({ types: z.record(z.string(), z.number()), events: z.record(z.string(), z.number()) }),
  eventCount: z.number().int(),
  firstSeenAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  version: z.number().int(),
  updatedAt: z.string(),
});
export type CustomerProfile = z.infer<typeof CustomerProfile>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDocument(id: string, state: ProfileState, identities: readonly Identity[], version: number, updatedAt: number): CustomerProfile {
  const values = (kind: Identity["kind"]) => identities.filter((i) => i.kind === kind).map((i) => i.value).sort();
  const userIds = values("user_id");
  const emails = values("email");
  const email = typeof state.traits.email === "string" ? state.traits.email : (emails[0] ?? null);
  return {
    id,
    userId: userIds[0] ?? null,
    email,
    identities: { userIds, anonymousIds: values("anonymous_id"), emails },
    traits: state.traits,
    traitsUpdatedAt: Object.fromEntries(Object.entries(state.traitTimes).map(([k, [ts]]) => [k, new Date(ts).toISOString()])),
    counters: state.counters,
    eventCount: state.eventCount,
    firstSeenAt: iso(state.firstSeenAt),
    lastSeenAt: iso(state.lastSeenAt),
    version,
    updatedAt: new Date(updatedAt).toISOString(),
  };
}
