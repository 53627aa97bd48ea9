// A seeded pseudo-random source, so a failing soak run can be repeated.

/** mulberry32: small, fast, and good enough to pick sizes and bytes. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b_79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + (this.u32() % (max - min + 1));
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/**
 * A payload size from 0 to `max`, biased to the edges that matter: empty,
 * tiny, around the 4-byte header, and the largest.
 */
export function mixedSize(random: Random, max: number): number {
  switch (random.int(0, 9)) {
    case 0:
      return 0;
    case 1:
      return random.int(1, 8);
    case 2:
      return max;
    default:
      return random.int(0, max);
  }
}
