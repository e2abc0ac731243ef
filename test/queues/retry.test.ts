import { describe, expect, it } from "vitest";
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from "../../src/queues/retry";

describe("retry backoff", () => {
  it("doubles from the base delay per attempt", () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 5))).toEqual([5, 10, 20, 40]);
  });
  it("is capped at 15 minutes", () => {
    expect(retryDelaySeconds(30, 5)).toBe(MAX_RETRY_DELAY_SECONDS);
  });
});
