import type { Rng } from '../../src/raft/index.js';

/** mulberry32: small, fast, and good enough to drive a simulation; every run replays from its seed. */
export class Prng implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[this.nextInt(xs.length)]!;
  }

  /** A child generator: a separate stream per concern keeps one concern's draws from shifting
   * another's when the code changes. */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 0xffff_ffff));
  }
}
