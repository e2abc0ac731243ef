import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { invalidUtf8Offset } from "../../src/kernel/request-body";
import { jsonPrefix } from "../../src/model/json-prefix";
import { tooDeepAt } from "../../src/model/depth";

describe("invalidUtf8Offset", () => {
  it("agrees with the runtime's fatal decoder on any bytes, and points at a byte the decoder refuses", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let valid = true;
        try {
          new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
        } catch {
          valid = false;
        }
        const offset = invalidUtf8Offset(bytes);
        expect(offset === -1).toBe(valid);
        if (offset >= 0) {
          // Everything before the offset decodes; the offset begins no valid character.
          expect(() => new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, offset))).not.toThrow();
          expect(() => new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, offset + 4))).toThrow();
        }
      }),
    );
  });
});

describe("jsonPrefix and tooDeepAt", () => {
  it("write what JSON.stringify writes when nothing is cut", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonPrefix(value, 1 << 30)).toEqual({ text: JSON.stringify(value), truncated: false });
      }),
    );
  });

  it("cut at a character boundary, never past the byte limit", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 200 }), (value, limit) => {
        const whole = JSON.stringify(value);
        const { text, truncated } = jsonPrefix(value, limit);
        expect(new TextEncoder().encode(text).byteLength).toBeLessThanOrEqual(limit);
        expect(whole.startsWith(text)).toBe(true);
        expect(truncated).toBe(text !== whole);
      }),
    );
  });

  it("serialize and measure a value nested 100,000 levels deep without overflowing the stack", () => {
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000));
    expect(jsonPrefix(deep, 1024).text).toBe("[".repeat(1024));
    expect(tooDeepAt(deep, 32)).toEqual(Array.from({ length: 32 }, () => 0));
    expect(tooDeepAt({ a: [{ b: 1 }] }, 3)).toBeNull();
    expect(tooDeepAt({ a: [{ b: {} }] }, 3)).toEqual(["a", 0, "b"]);
  });
});
