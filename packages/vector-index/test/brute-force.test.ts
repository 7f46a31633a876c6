import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BruteForceIndex, HnswIndex } from '../src/index.js';
import { range, refDistance, referenceTopK, row, uniformData } from './helpers.js';

describe('BruteForceIndex', () => {
  it('matches the float64 reference for random sets, metrics and k', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom('l2' as const, 'ip' as const, 'cosine' as const),
        fc.integer({ min: 0, max: 1e9 }),
        (n, dim, metric, seed) => {
          const data = uniformData(n, dim, seed);
          const bf = new BruteForceIndex({ dim, metric, capacity: 4 });
          bf.addBatch(range(n), data);
          const q = row(uniformData(1, dim, seed + 1), 0, dim);
          const k = 1 + (seed % n);
          const got = bf.search(q, k);
          const truth = referenceTopK(metric, data, dim, q, k);
          // Float32 ties may order differently, so compare distances rank by
          // rank, and check each returned label's own reference distance.
          expect(got.labels).toHaveLength(k);
          expect(new Set(got.labels).size).toBe(k);
          const tol = (d: number): number => 1e-4 * (1 + Math.abs(d));
          truth.forEach((label, i) => {
            const want = refDistance(metric, q, row(data, label, dim));
            expect(Math.abs(got.distances[i]! - want)).toBeLessThanOrEqual(tol(want));
          });
          got.labels.forEach((label, i) => {
            const own = refDistance(metric, q, row(data, label, dim));
            expect(Math.abs(got.distances[i]! - own)).toBeLessThanOrEqual(tol(own));
          });
        },
      ),
      { numRuns: 80 },
    );
  });

  it('supports delete, update and filters', () => {
    const dim = 6;
    const data = uniformData(300, dim, 51);
    const bf = new BruteForceIndex({ dim });
    bf.addBatch(range(300), data);
    for (let l = 0; l < 300; l += 2) expect(bf.delete(l)).toBe(true);
    expect(bf.delete(0)).toBe(false);
    expect(bf.size).toBe(150);
    const q = row(uniformData(1, dim, 52), 0, dim);
    expect(bf.search(q, 10).labels).toEqual(
      referenceTopK('l2', data, dim, q, 10, (l) => l % 2 === 1),
    );
    bf.update(1, q);
    expect(bf.search(q, 1)).toEqual({ labels: [1], distances: [0] });
    const keep = (l: number): boolean => l % 3 === 0;
    expect(bf.search(q, 5, { filter: keep }).labels).toEqual(
      referenceTopK('l2', data, dim, q, 5, (l) => l % 2 === 1 && keep(l)),
    );
  });

  it('HnswIndex.searchExact agrees with BruteForceIndex', () => {
    const dim = 10;
    const data = uniformData(800, dim, 53);
    const h = new HnswIndex({ dim, metric: 'cosine' });
    const bf = new BruteForceIndex({ dim, metric: 'cosine' });
    h.addBatch(range(800), data);
    bf.addBatch(range(800), data);
    const q = row(uniformData(1, dim, 54), 0, dim);
    expect(h.searchExact(q, 15)).toEqual(bf.search(q, 15));
  });
});
