/**
 * How deeply a JSON value nests, found without recursion. Ingest refuses messages nested deeper
 * than MAX_NESTING_DEPTH, so that nothing after it (serialization, Durable Object calls, the
 * structured clone they use, tracking plans, computed traits) walks a structure deep enough to
 * overflow the stack: a 3,000-level `properties` once took a whole pack of other customers'
 * events to the dead letters with it.
 */

/** Objects and arrays nested in one message, the message itself counting as level 1. */
export const MAX_NESTING_DEPTH = 32;

/**
 * The consumer's own bound, for packs made before ingest checked depth (dead letters, the raw
 * archive): events within it are processed as they always were; past it, an event is set aside.
 * Well below what the runtime's recursive code handles (structured clone failed near 3,000).
 */
export const MAX_PROCESSABLE_DEPTH = 256;

/**
 * The path to the first object or array found nested more than `limit` levels deep in `value`
 * (`value` itself is level 1 when it is an object or array), or null when none is. Iterative:
 * safe on any depth that JSON.parse (itself iterative) can produce.
 *
 * @example tooDeepAt({ a: { b: {} } }, 2) // → ["a", "b"]
 */
export function tooDeepAt(value: unknown, limit: number): (string | number)[] | null {
  if (typeof value !== "object" || value === null) return null;
  // Each entry: a container, its depth, and its parent (the path is rebuilt only when returned).
  const stack: Frame[] = [{ node: value, depth: 1, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > limit) return pathOf(frame);
    // Children are pushed last first, so that the first too-deep path found is the first in
    // document order.
    if (Array.isArray(frame.node)) {
      const items = frame.node as unknown[];
      for (let i = items.length - 1; i >= 0; i--) push(stack, items[i], i, frame);
    } else {
      const keys = Object.keys(frame.node);
      for (let i = keys.length - 1; i >= 0; i--) push(stack, (frame.node as Record<string, unknown>)[keys[i]!], keys[i]!, frame);
    }
  }
  return null;
}

type Frame = { node: object; depth: number; key: string | number | null; parent: Frame | null };

function push(stack: Frame[], child: unknown, key: string | number, parent: Frame): void {
  if (typeof child === "object" && child !== null) stack.push({ node: child, depth: parent.depth + 1, key, parent });
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) path.push(f.key);
  return path.reverse();
}
