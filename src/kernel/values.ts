/**
 * Reading loosely typed values (event properties, traits) and combining counts: the small rules
 * that the profile, the session, computed traits and templates share.
 */

/** A finite number, from a number or a numeric string; undefined otherwise. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-empty string, or a number as text; undefined otherwise (ids and names in properties). */
export const textOf = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);

export const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
export const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Counts added up by key; beyond `cap` keys, new keys are not added. */
export function addCounts(a: Record<string, number>, b: Record<string, number>, cap = Infinity): Record<string, number> {
  const out = { ...a };
  let size = Object.keys(out).length;
  for (const [k, n] of Object.entries(b)) {
    if (!(k in out)) {
      if (size >= cap) continue;
      size++;
    }
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

/** The first item of each key, in order: `seen` starts with keys to skip and gains the kept ones. */
export function firstOfEach<T>(items: readonly T[], keyOf: (item: T) => string, seen = new Set<string>()): T[] {
  const kept: T[] = [];
  for (const item of items) {
    const key = keyOf(item);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(item);
  }
  return kept;
}
