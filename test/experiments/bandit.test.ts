import { describe, expect, it } from "vitest";
import { banditWeights, expectedRegret, probabilityBest } from "../../src/experiments/bandit";
import { noTotals, type VariantTotals } from "../../src/experiments/totals";
// Seeded (mulberry32): the simulations give the same answer every run.
import { random } from "../../tools/sim/random";

const arm = (variant: string, exposed: number, converted: number): VariantTotals => ({ ...noTotals(variant), exposed, converted, conversions: converted });
const SETTINGS = { burnInPerArm: 100, floor: 0.01 };

describe("Thompson sampling", () => {
  it("gives each arm its chance of being best", () => {
    const [a, b] = probabilityBest([arm("a", 1000, 100), arm("b", 1000, 150)], "conversion");
    expect(b).toBeGreaterThan(0.99);
    expect(a! + b!).toBeCloseTo(1, 10);
    const even = probabilityBest([arm("a", 1000, 100), arm("b", 1000, 100)], "conversion");
    expect(even[0]).toBeGreaterThan(0.45);
    expect(even[0]).toBeLessThan(0.55);
    // The same totals, the same answer.
    expect(probabilityBest([arm("a", 500, 40), arm("b", 500, 45)], "conversion", 7)).toEqual(probabilityBest([arm("a", 500, 40), arm("b", 500, 45)], "conversion", 7));
  });

  it("splits evenly during the burn-in, then never starves an arm below its floor", () => {
    expect(banditWeights([arm("a", 99, 0), arm("b", 5000, 4000)], "conversion", SETTINGS)).toEqual([0.5, 0.5]);
    const w = banditWeights([arm("a", 1000, 50), arm("b", 1000, 150), arm("c", 1000, 60)], "conversion", SETTINGS);
    expect(w[0]).toBe(0.01);
    expect(w[2]).toBe(0.01);
    expect(w[1]).toBeCloseTo(0.98, 10);
    expect(w.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 10);
  });

  it("loses fewer conversions than an even split while learning which arm is better", () => {
    // 5 % against 10 %, 6,000 exposures, the split rewritten after every 200 (as the tally does each interval).
    const rates = [0.05, 0.1];
    const run = (steer: boolean, seed: number) => {
      const next = random(seed);
      const totals = [arm("a", 0, 0), arm("b", 0, 0)];
      let weights = [0.5, 0.5];
      for (let i = 1; i <= 6000; i++) {
        const k = next() < weights[0]! ? 0 : 1;
        totals[k]!.exposed++;
        if (next() < rates[k]!) totals[k]!.converted++;
        if (steer && i % 200 === 0) weights = banditWeights(totals, "conversion", SETTINGS, i);
      }
      // Conversions lost against showing everybody the better arm.
      return { lost: totals[0]!.exposed * (rates[1]! - rates[0]!), toBetter: totals[1]!.exposed / 6000, estimated: expectedRegret(totals, "conversion") };
    };
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const bandit = seeds.map((s) => run(true, s));
    const even = seeds.map((s) => run(false, s));
    expect(mean(bandit.map((r) => r.lost))).toBeLessThan(mean(even.map((r) => r.lost)) / 3);
    expect(mean(bandit.map((r) => r.toBetter))).toBeGreaterThan(0.85);
    // The reported regret estimates the true one (posterior means in place of the true rates).
    expect(mean(bandit.map((r) => r.estimated))).toBeGreaterThan(mean(bandit.map((r) => r.lost)) * 0.5);
    expect(mean(bandit.map((r) => r.estimated))).toBeLessThan(mean(bandit.map((r) => r.lost)) * 2);
  });
});
