/**
 * JSON.parse that keeps every digit of integers past 2^53. Shopify's order and customer ids
 * (`820982911946154508`) and some SDKs' numeric user ids are that large; as JavaScript numbers
 * they lose their last digits (`…500`), and two customers' ids can become one. Such an integer
 * is kept as the string of its digits, which is how Rapport stores identifiers anyway.
 *
 * Uses the reviver's source text (JSON.parse source text access, in V8 since 11.4: workerd and
 * Node 22+), only when the text holds a run of 16 digits: other bodies parse at full speed.
 */

/** Integers of 16 or more digits are the only ones that can be past 2^53 (9007199254740992). */
const LONG_DIGITS = /\d{16}/;

export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text, exactIntegers);
}

function exactIntegers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value) || !Number.isInteger(value)) return value;
  const source = context?.source;
  if (source === undefined) throw new Error("This runtime's JSON.parse gives no source text: integers past 2^53 cannot be kept exactly");
  return /^-?\d+$/.test(source) ? source : value;
}
