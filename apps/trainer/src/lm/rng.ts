/**
 * xoshiro128** ("Scrambled Linear Pseudorandom Number Generators", Blackman
 * & Vigna, 2021) with its 128-bit state readable and settable, so a
 * checkpoint can store the generator and a resumed run draws the same
 * numbers as an uninterrupted one.
 */
export class CheckpointableRandom {
  private s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 spreads any seed (0 included) over the state.
    let x = seed >>> 0 || 0x9e3779b9;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = Uint32Array.of(next(), next(), next(), next());
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform integer in `[0, n)` (n ≤ 2^32; the bias of the multiply-shift is below 2^-32·n). */
  nextInt(n: number): number {
    return Math.floor((this.nextUint32() / 0x1_0000_0000) * n);
  }

  /** The four state words (a copy). */
  getState(): number[] {
    return Array.from(this.s);
  }

  /** Restore a state from {@link getState}. */
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new Error(`random state must be 4 unsigned 32-bit words, got ${JSON.stringify(state)}`);
    this.s = Uint32Array.from(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
