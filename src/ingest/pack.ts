/**
 * Packs events into Queue messages. Queues bill per message (per 64 KB), so many events travel
 * together, under the 128 KB message limit; `sendBatch` calls are grouped under its own limits.
 * Each event is serialized once, here: the pack's JSON is assembled from those strings and sent
 * as text. Each string is measured once too, and a pack's size is the sum of its parts and its
 * envelope: exact, without scanning the assembled text again.
 */
import { byteLength, newId } from "../kernel/crypto";
import type { RejectedMessage, StoredEvent } from "../model/events";
import type { ViolationRecord } from "../model/events";
import { MAX_PACK_BYTES, MAX_SEND_BATCH_BYTES, MAX_SEND_BATCH_MESSAGES } from "./limits";

/** UTF-8 size, without encoding when the string is ASCII (the common case). */
function sizeOf(json: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "every ASCII character", controls included
  return /^[\x00-\x7f]*$/.test(json) ? json.length : byteLength(json);
}

export interface SerializedPack {
  packId: string;
  /** The EventPack as JSON text. */
  body: string;
  bytes: number;
}

type Parts = { events: string[]; rejected: string[]; violations: string[] };
const empty = (): Parts => ({ events: [], rejected: [], violations: [] });

export function packEvents(events: StoredEvent[], rejected: RejectedMessage[], meta: { sourceId: string; receivedAt: string }, violations: ViolationRecord[] = []): SerializedPack[] {
  const out: SerializedPack[] = [];
  let parts = empty();
  let bytes = 0;
  const tail = `,"receivedAt":${JSON.stringify(meta.receivedAt)},"sourceId":${JSON.stringify(meta.sourceId)}`;
  let packId = newId("pk");
  const envelope = 64 + tail.length;
  const flush = () => {
    if (parts.events.length === 0 && parts.rejected.length === 0 && parts.violations.length === 0) return;
    const head = `{"v":1,"packId":${JSON.stringify(packId)}${tail},"events":[`;
    // `violations` only when there are some: packs stay as they were for sources without a plan.
    const violations = parts.violations.length > 0 ? `,"violations":[${parts.violations.join(",")}]` : "";
    const body = `${head}${parts.events.join(",")}],"rejected":[${parts.rejected.join(",")}]${violations}}`;
    // Each part was counted with a comma after it, and a list of n parts has n - 1.
    const lists = [parts.events, parts.rejected, parts.violations].filter((list) => list.length > 0).length;
    const frame = sizeOf(head) + `],"rejected":[]}`.length + (violations === "" ? 0 : `,"violations":[]`.length);
    out.push({ packId, body, bytes: bytes - lists + frame });
    parts = empty();
    packId = newId("pk");
    bytes = 0;
  };
  const add = (json: string, list: keyof Parts) => {
    const size = sizeOf(json) + 1;
    if (bytes + size + envelope > MAX_PACK_BYTES) flush();
    parts[list].push(json);
    bytes += size;
  };
  for (const e of events) add(JSON.stringify(e), "events");
  for (const r of rejected) add(JSON.stringify(r), "rejected");
  for (const v of violations) add(JSON.stringify(v), "violations");
  flush();
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
