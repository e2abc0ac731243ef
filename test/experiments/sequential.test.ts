import { describe, expect, it } from "vitest";
import { type ArmSummary, compareArms } from "../../src/experiments/sequential";
// Seeded (mulberry32): the simulations give the same answer every run.
import { random } from "../../tools/sim/random";

const empty = (): ArmSummary => ({ n: 0, sum: 0, sumSquares: 0 });
const add = (arm: ArmSummary, x: number) => {
  arm.n++;
  arm.sum += x;
  arm.sumSquares += x * x;
};

/**
 * One experiment watched after every 100 exposures: did it ever call a winner, and when? Rates
 * are conversion probabilities of control and variant.
 */
function watch(seed: number, rates: [number, number], exposures: number, test = (c: ArmSummary, v: ArmSummary) => compareArms(c, v)?.significant === true) {
  const next = random(seed);
  const arms = [empty(), empty()] as const;
  for (let i = 1; i <= exposures; i++) {
    const arm = next() < 0.5 ? 0 : 1;
    add(arms[arm], next() < rates[arm] ? 1 : 0);
    if (i % 100 === 0 && test(arms[0], arms[1])) return i;
  }
  return null;
}

/** The fixed-horizon z-test at 95 %, which is only valid when looked at once. */
const zTest = (c: ArmSummary, v: ArmSummary) => {
  const p = (a: ArmSummary) => a.sum / a.n;
  const se = Math.sqrt((p(c) * (1 - p(c))) / c.n + (p(v) * (1 - p(v))) / v.n);
  return se > 0 && Math.abs(p(v) - p(c)) / se > 1.96;
};

describe("always-valid statistics (mixture SPRT)", () => {
  it("keeps the chance of a false winner under α however often the results are watched", () => {
    // 400 A/A experiments of 20,000 exposures, each looked at 200 times.
    const rate = (test?: Parameters<typeof watch>[3]) => Array.from({ length: 400 }, (_, seed) => watch(seed + 1, [0.1, 0.1], 20_000, test)).filter((r) => r !== null).length / 400;
    expect(rate()).toBeLessThanOrEqual(0.05);
    // The fixed-horizon test peeked at the same way calls a false winner in about four in ten.
    expect(rate(zTest)).toBeGreaterThan(0.25);
  });

  it("finds a real difference, with an interval that holds the true effect", () => {
    const runs = Array.from({ length: 50 }, (_, seed) => watch(1_000 + seed, [0.1, 0.13], 30_000));
    expect(runs.filter((r) => r !== null).length / runs.length).toBeGreaterThan(0.8);
    // On one long run, the interval covers +0.03 and excludes 0.
    const next = random(7);
    const arms = [empty(), empty()] as const;
    for (let i = 0; i < 40_000; i++) {
      const arm = i % 2 === 0 ? 0 : 1;
      add(arms[arm], next() < [0.1, 0.13][arm]! ? 1 : 0);
    }
    const result = compareArms(arms[0], arms[1])!;
    expect(result.interval[0]).toBeLessThan(0.03);
    expect(result.interval[1]).toBeGreaterThan(0.03);
    expect(result.interval[0]).toBeGreaterThan(0);
    expect(result.pValue).toBeLessThan(0.05);
  });

  it("says nothing before either arm can estimate a variance", () => {
    expect(compareArms({ n: 1, sum: 1, sumSquares: 1 }, { n: 5, sum: 1, sumSquares: 1 })).toBeNull();
    expect(compareArms({ n: 10, sum: 0, sumSquares: 0 }, { n: 10, sum: 0, sumSquares: 0 })).toBeNull();
  });
});
