/**
 * FNV-1a (32 bits) over the UTF-8 bytes of a text: a stable, fast, non-cryptographic hash for
 * placing things (a row's slot, an event's ingest buffer). Fixed forever where rows are placed by it.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
