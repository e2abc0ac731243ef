import { describe, expect, it } from "vitest";
import { ConcurrentWriteError, withRetries } from "../../src/pipeline/retries";

describe("withRetries", () => {
  it("starts a commit over after a write conflict, with the attempt number", async () => {
    const attempts: number[] = [];
    const result = await withRetries("test", async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Error("D1_ERROR: rapport_version_conflict");
      return "committed";
    });
    expect(result).toBe("committed");
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("gives up after five conflicts with a ConcurrentWriteError", async () => {
    let calls = 0;
    const failing = withRetries("test", async () => {
      calls++;
      throw new Error("UNIQUE constraint failed: identities.key");
    });
    await expect(failing).rejects.toBeInstanceOf(ConcurrentWriteError);
    expect(calls).toBe(5);
  });

  it("does not retry any other error", async () => {
    let calls = 0;
    const failing = withRetries("test", async () => {
      calls++;
      throw new TypeError("a bug");
    });
    await expect(failing).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });
});
