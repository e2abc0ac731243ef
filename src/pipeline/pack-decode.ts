/** Checks that a Queue message body is an EventPack this version understands. */
import type { EventPack } from "../events/types";

export function decodePack(body: unknown): EventPack | null {
  if (typeof body !== "object" || body === null) return null;
  const p = body as Partial<EventPack>;
  if (p.v !== 1 || typeof p.packId !== "string" || typeof p.sourceId !== "string" || typeof p.receivedAt !== "string") return null;
  if (!Array.isArray(p.events) || !Array.isArray(p.rejected)) return null;
  return p as EventPack;
}
