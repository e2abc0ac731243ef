import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { StoredEvent } from "../src/model/events";
import type { CustomerSession } from "../src/sessions/customer-session";
import type { TriggerDefinitionInput } from "../src/triggers/definition";
import { admin, env, profileWhen } from "./helpers";

export const HOUR = 3_600_000;
export const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR).toISOString();

export const ev = (p: Partial<StoredEvent> & Pick<StoredEvent, "type">): StoredEvent => ({
  messageId: crypto.randomUUID(),
  timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: "key_test",
  ...p,
});
export const track = (who: Partial<StoredEvent>, event: string, properties: Record<string, unknown>, hours = 0) => ev({ type: "track", ...who, event, properties, timestamp: hoursAgo(hours) });

/** A URL of the test's real HTTP receiver (test/global-setup.ts); `name` keeps tests apart. */
export const hookUrl = (name: string) => `${env.TEST_RECEIVER_URL}/webhooks/${name}`;

export interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
}

export async function received(name: string): Promise<Received[]> {
  return (await fetch(`${env.TEST_RECEIVER_URL}/_received/${name}`)).json();
}

/** The receiver answers the next `fail` requests to `name` with `status`. */
export async function failNext(name: string, fail: number, status = 503): Promise<void> {
  await fetch(`${env.TEST_RECEIVER_URL}/_control/${name}`, { method: "POST", body: JSON.stringify({ fail, status }) });
}

export async function putTrigger(id: string, definition: TriggerDefinitionInput): Promise<Response> {
  return admin(`/v1/triggers/${id}`, { method: "PUT", body: JSON.stringify(definition) });
}

export const stubOf = (customerId: string) => env.SESSIONS.getByName(customerId);

export async function customerIdOf(ref: string): Promise<string> {
  return (await profileWhen(ref, () => true)).id as string;
}

/** Runs the customer's alarm now (as if its time had come), if one is set. */
export const runAlarm = (customerId: string) => runDurableObjectAlarm(stubOf(customerId));

export const timersOf = (customerId: string) => runInDurableObject(stubOf(customerId), (instance: CustomerSession) => instance.triggers());
