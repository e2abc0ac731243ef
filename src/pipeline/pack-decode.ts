/** Reading Queue message bodies: event packs arrive as JSON text (or, replayed, as objects). */
import type { EventPack } from "../model/events";

/** The body as a value: JSON text is parsed; anything unparseable is returned as is. */
export function bodyValue(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** The EventPack of a message body, or null if it is not one this version understands. */
export function decodePack(body: unknown): EventPack | null {
  const value = bodyValue(body);
  if (typeof value !== "object" || value === null) return null;
  const p = value as Partial<EventPack>;
  if (p.v !== 1 || typeof p.packId !== "string" || typeof p.sourceId !== "string" || typeof p.receivedAt !== "string") return null;
  if (!Array.isArray(p.events) || !Array.isArray(p.rejected)) return null;
  return p as EventPack;
}
