import { describe, expect, it } from "vitest";
import * as worker from "../../src/index";

describe("the worker's main module", () => {
  // workerd refuses to start a worker whose main module exports anything else (a constant
  // exported from src/index.ts once stopped `npm start`; the test pool does not check it).
  it("exports only handlers, functions and classes", () => {
    for (const [name, value] of Object.entries(worker)) {
      const handler = typeof value === "function" || (typeof value === "object" && value !== null && ["fetch", "queue", "scheduled"].some((k) => k in value));
      expect(handler, `export ${name}`).toBe(true);
    }
  });
});
