/**
 * Seeded randomness for the simulator (and the benchmarks' workloads): mulberry32, a small
 * generator that is fast and good enough for traffic, never for secrets. Deterministic for a seed.
 */

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One 32-bit seed from several integers (a run's seed and a shopper's number), through murmur3's
 * finalizer: each shopper draws from its own stream, so shopper 12 is the same shopper whether the
 * run has 100 shoppers or a million, and shoppers can be generated one at a time.
 */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** The draws the simulator needs, over one stream. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = random(seed);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** An index drawn with the given weights. */
  weighted(weights: readonly number[]): number {
    let u = this.next() * weights.reduce((s, w) => s + w, 0);
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  /** Poisson by inversion: fine for the small means used here. */
  poisson(mean: number): number {
    let k = 0;
    for (let p = Math.exp(-mean), s = p, u = this.next(); u > s; k++) {
      p *= mean / (k + 1);
      s += p;
    }
    return k;
  }
  /** Exponential with this mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
