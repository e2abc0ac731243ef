/**
 * A JSON value's text, at most `maxBytes` of it, made without recursion. What ingest keeps of a
 * refused message (the quarantine's raw payload) and what the consumer keeps of an event it sets
 * aside: `JSON.stringify` recurses and throws on a value nested a few thousand levels deep, and
 * serializes a 500 KB batch whole only to cut it to 32 KB.
 */
import { byteLength } from "../kernel/crypto";

export interface JsonPrefix {
  text: string;
  /** Whether `text` is a cut prefix of the whole JSON text (then it is not valid JSON). */
  truncated: boolean;
}

type Step = { literal: string } | { value: unknown };

/**
 * `JSON.stringify(value)` for values JSON.parse produced (and `undefined` members, skipped as it
 * skips them), cut to at most `maxBytes` UTF-8 bytes at a character boundary.
 *
 * @example jsonPrefix({ a: [1, "x"] }, 1024) // → { text: '{"a":[1,"x"]}', truncated: false }
 */
export function jsonPrefix(value: unknown, maxBytes: number): JsonPrefix {
  const out: string[] = [];
  // A UTF-16 unit is at least one UTF-8 byte: once the characters pass the limit, so do the bytes.
  let chars = 0;
  const emit = (s: string) => {
    out.push(s);
    chars += s.length;
  };
  const stack: Step[] = [{ value }];
  while (stack.length > 0 && chars <= maxBytes) {
    const step = stack.pop()!;
    if ("literal" in step) {
      emit(step.literal);
      continue;
    }
    const v = step.value;
    if (Array.isArray(v)) {
      emit("[");
      stack.push({ literal: "]" });
      for (let i = v.length - 1; i >= 0; i--) {
        // Holes and undefined become null, as JSON.stringify writes them in arrays.
        stack.push({ value: v[i] === undefined ? null : v[i] });
        if (i > 0) stack.push({ literal: "," });
      }
    } else if (typeof v === "object" && v !== null) {
      emit("{");
      stack.push({ literal: "}" });
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (v as Record<string, unknown>)[keys[i]!] });
        stack.push({ literal: `${JSON.stringify(keys[i])}:` });
        if (i > 0) stack.push({ literal: "," });
      }
    } else {
      emit(JSON.stringify(v) ?? "null");
    }
  }
  return cutToBytes(out.join(""), maxBytes, stack.length > 0);
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, never inside a character. */
export function cutToBytes(text: string, maxBytes: number, alreadyCut = false): JsonPrefix {
  if (text.length * 3 <= maxBytes || byteLength(text) <= maxBytes) return { text, truncated: alreadyCut };
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(maxBytes));
  return { text: text.slice(0, read), truncated: true };
}
