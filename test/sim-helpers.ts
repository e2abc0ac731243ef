import type { StoredEvent } from "../src/model/events";
import { ownerOf } from "./helpers";
import { validateOne } from "../src/ingest/accept";
import { processEvents } from "../src/pipeline/process";
import type { Ref, SimulatedShopper } from "../tools/sim/simulate";
import { env } from "./helpers";

/**
 * Simulated messages as ingest makes them: each validated by the real schemas and normalized, as
 * `/v1/batch` does before queueing. The refused ones are returned, for tests to assert none.
 */
export async function ingested(shoppers: readonly SimulatedShopper[], receivedAt = new Date()): Promise<{ events: StoredEvent[]; refused: unknown[] }> {
  const events: StoredEvent[] = [];
  const refused: unknown[] = [];
  for (const s of shoppers) {
    for (const m of s.messages) {
      const out = await validateOne(m, undefined, "", { receivedAt, sourceId: "key_test" });
      if ("event" in out) events.push(out.event);
      else refused.push({ messageId: m.messageId, ...out });
    }
  }
  return { events, refused };
}

/** Through the pipeline, in consumer-sized batches. */
export async function processAll(events: readonly StoredEvent[], size = 1_000): Promise<void> {
  for (let i = 0; i < events.length; i += size) await processEvents(env, events.slice(i, i + size));
}

/** The customer a ref belongs to now. */
export async function customerOf(ref: Ref): Promise<string | undefined> {
  const key = "userId" in ref ? `user_id:${ref.userId}` : `anonymous_id:${ref.anonymousId}`;
  return ownerOf(key);
}

export const pairKey = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);
