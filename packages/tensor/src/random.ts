import * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from './errors.js';

/**
 * A small, fast, seeded PRNG (xoshiro128**, Blackman & Vigna, "Scrambled
 * Linear Pseudorandom Number Generators", 2018) for reproducible runs: the
 * same seed gives the same stream on every platform.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed))
      throw new PlexusTensorError('random', `seed must be a finite number, got ${seed}`);
    // splitmix32 spreads any seed (0 included) over the 128-bit state.
    let x = seed >>> 0 || 0x9e3779b9;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in `[0, 1)`. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal draw (Box–Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fill `out` with normal draws of the given mean and standard deviation. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fill `out` with uniform draws in `[low, high)`. */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
    return out;
  }

  /** Shuffle `items` in place (Fisher–Yates). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** An independent generator derived from this one (for parallel streams). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A float32 tensor of normal draws from `rng`, identical on every backend. */
export function randomNormalTensor(
  shape: number[],
  rng: SeededRandom,
  mean = 0,
  std = 1,
): tf.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  return tf.tensor(rng.fillNormal(new Float32Array(size), mean, std), shape, 'float32');
}

/** A float32 tensor of uniform draws in `[low, high)` from `rng`. */
export function randomUniformTensor(
  shape: number[],
  rng: SeededRandom,
  low = 0,
  high = 1,
): tf.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  return tf.tensor(rng.fillUniform(new Float32Array(size), low, high), shape, 'float32');
}
