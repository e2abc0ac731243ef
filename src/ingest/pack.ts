/**
 * Packs events into Queue messages. Queues bill per message (per 64 KB), so many events travel
 * together, under the 128 KB message limit; `sendBatch` calls are grouped under its own limits.
 */
import { byteLength, newId } from "../crypto";
import type { EventPack, RejectedMessage, StoredEvent } from "../events/types";
import { MAX_PACK_BYTES, MAX_SEND_BATCH_BYTES, MAX_SEND_BATCH_MESSAGES } from "./limits";

const ENVELOPE_BYTES = 256;

/** UTF-8 size, without encoding when the string is ASCII-sized (the common case). */
function sizeOf(json: string): number {
  return /^[\x00-\x7f]*$/.test(json) ? json.length : byteLength(json);
}

export function packEvents(events: StoredEvent[], rejected: RejectedMessage[], meta: { sourceId: string; receivedAt: string }): { pack: EventPack; bytes: number }[] {
  const out: { pack: EventPack; bytes: number }[] = [];
  let current: EventPack | null = null;
  let bytes = 0;
  const start = () => {
    current = { v: 1, packId: newId("pk"), receivedAt: meta.receivedAt, sourceId: meta.sourceId, events: [], rejected: [] };
    bytes = ENVELOPE_BYTES;
    out.push({ pack: current, bytes });
  };
  const add = (size: number, put: (p: EventPack) => void) => {
    if (!current || bytes + size > MAX_PACK_BYTES) start();
    put(current!);
    bytes += size + 1;
    out[out.length - 1]!.bytes = bytes;
  };
  for (const e of events) add(sizeOf(JSON.stringify(e)), (p) => p.events.push(e));
  for (const r of rejected) add(sizeOf(JSON.stringify(r)), (p) => p.rejected.push(r));
  return out;
}

/** Groups packs into `sendBatch` calls of at most 100 messages and 250 KB. */
export function groupForSend<T extends { bytes: number }>(packs: T[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const p of packs) {
    if (group.length > 0 && (group.length >= MAX_SEND_BATCH_MESSAGES || bytes + p.bytes > MAX_SEND_BATCH_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(p);
    bytes += p.bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
