// Deterministic pseudo-random numbers for tests (mulberry32): the same seed gives the same sequence
// on every machine, so a failing fuzz case can be reproduced from its index.

export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Next 32-bit unsigned value. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }
  byte(): number {
    return this.u32() & 0xff;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}
