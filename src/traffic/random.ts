// A small seeded random source for the traffic model: the same seed gives the same school
// morning, so a demo or a test can be replayed exactly. Not for anything security-related.

/** A function returning floats uniform in [0, 1), like Math.random. */
export type RandomSource = () => number;

/** mulberry32: tiny, fast, and good enough for traffic statistics. */
export function seededRandom(seed: number): RandomSource {
  let a = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over a random source; every draw goes through `next`, so results follow the seed. */
export class Rng {
  constructor(readonly next: RandomSource) {}

  chance(p: number): boolean {
    return this.next() < p;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    // 1 - next() is in (0, 1]: the logarithm is always finite.
    return -mean * Math.log(1 - this.next());
  }

  /** Normal by Box-Muller. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A rounded normal draw clamped to [min, max]. */
  normalInt(mean: number, sd: number, min: number, max: number): number {
    return Math.min(max, Math.max(min, Math.round(this.normal(mean, sd))));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
}
