import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it('is reproducible and seeds differ', () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const c = new SeededRandom(124);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(sa).toEqual(Array.from({ length: 5 }, () => b.nextUint32()));
    expect(sa).not.toEqual(Array.from({ length: 5 }, () => c.nextUint32()));
  });

  it('has the moments of its distributions', () => {
    const rng = new SeededRandom(5);
    const n = 200_000;
    const u = rng.fillUniform(new Float32Array(n));
    const z = rng.fillNormal(new Float32Array(n));
    const mean = (v: Float32Array): number => v.reduce((s, x) => s + x, 0) / v.length;
    const varOf = (v: Float32Array): number => {
      const m = mean(v);
      return v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length;
    };
    // Standard errors: uniform mean 0.00065, normal mean 0.0022: these bounds are > 4 sigma.
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(varOf(u) - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(mean(z))).toBeLessThan(0.01);
    expect(Math.abs(varOf(z) - 1)).toBeLessThan(0.015);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[rng.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('rejects a non-finite seed', () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(
      /@plexus\/tensor\/random: seed must be a finite number/,
    );
  });
});
