/**
 * What the consumer sets aside before processing: events nested deeper than anything on the event
 * path can walk (packs made before ingest checked depth, or replayed from the archive or the dead
 * letters). Retrying cannot fix them, and processing them would overflow the stack in the middle
 * of the pack and take its other customers' events down with them.
 */
import { MAX_PROCESSABLE_DEPTH, tooDeepAt } from "../model/depth";
import type { EventPack, StoredEvent } from "../model/events";
import { fieldPath } from "../kernel/field-errors";

export interface SetAside {
  event: StoredEvent;
  reason: string;
}

export function screenPack(pack: EventPack): { pack: EventPack; setAside: SetAside[] } {
  const setAside: SetAside[] = [];
  const events = pack.events.filter((event) => {
    const at = tooDeepAt(event, MAX_PROCESSABLE_DEPTH);
    if (at) setAside.push({ event, reason: `too_deep: ${fieldPath(at)} nests deeper than ${MAX_PROCESSABLE_DEPTH} levels` });
    return !at;
  });
  return { pack: setAside.length === 0 ? pack : { ...pack, events }, setAside };
}

/**
 * One event as a pack of its own, named after the pack it came from: what a set-aside or failing
 * event becomes, so that it is retried and dead-lettered alone. The name is stable, so doing this
 * again after a redelivery makes the same pack.
 */
export function packOfOne(pack: EventPack, event: StoredEvent): EventPack {
  return { v: 1, packId: `${pack.packId}/${event.messageId}`, receivedAt: pack.receivedAt, sourceId: pack.sourceId, events: [event], rejected: [] };
}
