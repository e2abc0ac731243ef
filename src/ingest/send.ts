/**
 * Puts packs on an events queue in `sendBatch` calls under its limits. Both ingest paths use it:
 * a request's own packs, and an ingest buffer's packs of many requests.
 */
import { eventQueue } from "../queues/event-queues";
import { groupForSend, type SerializedPack } from "./pack";

export async function sendPacks(env: Env, queue: number, packs: SerializedPack[]): Promise<void> {
  const target = eventQueue(env, queue);
  for (const group of groupForSend(packs)) {
    await target.sendBatch(group.map((p) => ({ body: p.body, contentType: "text" as const })));
  }
}
