/**
 * The events queue's message: an EventPack (`model/events.ts`), several events packed together
 * because Queues bill per message. Bodies arrive as JSON text (or, replayed, as objects).
 */
import { z } from "zod";
import type { EventPack, RejectedMessage, StoredEvent, ViolationRecord } from "../model/events";

/** The body as a value: JSON text is parsed; anything unparseable is returned as is. */
export function bodyValue(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/**
 * The pack's envelope. Its events were validated at ingest and are checked one by one by the
 * consumer (`pipeline/screen.ts`), so that one odd event is set aside alone: here they pass as
 * they are, uncopied (a pack holds up to 100 of them).
 */
export const EventPackSchema: z.ZodType<EventPack> = z.object({
  v: z.literal(1),
  packId: z.string(),
  receivedAt: z.string(),
  sourceId: z.string(),
  events: z.array(z.custom<StoredEvent>()),
  rejected: z.array(z.custom<RejectedMessage>()),
  violations: z.array(z.custom<ViolationRecord>()).optional(),
});

/** The EventPack of a message body, or null if it is not one this version understands. */
export function decodePack(body: unknown): EventPack | null {
  const result = EventPackSchema.safeParse(bodyValue(body));
  return result.success ? result.data : null;
}
