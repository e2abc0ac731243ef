/**
 * A customer's stored events, wherever they are: in the customer's Durable Object (sessions/
 * event-store.ts), or, for a row from before events moved there that no batch has touched since,
 * still in D1 (profiles/store.ts rowHeldEvents).
 */
import type { StoredEvent } from "../model/events";
import { shards } from "../db/shards";
import { sessionStub } from "../sessions/contract";
import { loadProfile, rowHeldEvents, type StoredProfile } from "./store";

/** Newest first by event time (ties by messageId), as the events API pages them. */
const newestFirst = (a: StoredEvent, b: StoredEvent) => Date.parse(b.timestamp) - Date.parse(a.timestamp) || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0);

/** Every stored event of a loaded profile, newest first. */
export async function customerEvents(env: Env, profile: StoredProfile): Promise<StoredEvent[]> {
  if (profile.eventSeq === null) return rowHeldEvents(shards(env), profile);
  return (JSON.parse(await sessionStub(env, profile.id).storedEventsJson()) as StoredEvent[]).sort(newestFirst);
}

/** Every stored event of a customer by id (none for a customer that does not exist). */
export async function loadCustomerEvents(env: Env, customerId: string): Promise<StoredEvent[]> {
  const profile = await loadProfile(shards(env), customerId);
  return profile ? customerEvents(env, profile) : [];
}
