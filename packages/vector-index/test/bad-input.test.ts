import { describe, expect, it } from 'vitest';
import { BruteForceIndex, HnswIndex, VectorIndexError } from '../src/index.js';
import { range, row, uniformData } from './helpers.js';

const DIM = 8;

function expectError(fn: () => unknown, module: string, text: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(VectorIndexError.isInstance(caught)).toBe(true);
  expect(caught).toBeInstanceOf(VectorIndexError);
  expect((caught as Error).message.startsWith(`@plexus/vector-index/${module}: `)).toBe(true);
  expect((caught as Error).message).toMatch(text);
}

function small(): HnswIndex {
  const index = new HnswIndex({ dim: DIM });
  index.addBatch(range(20), uniformData(20, DIM, 41));
  return index;
}

describe('bad input', () => {
  it('rejects NaN and Infinity in inserted vectors and queries, leaving the index unchanged', () => {
    const index = small();
    const before = index.toBytes();
    const bad = new Float32Array(DIM).fill(0.5);
    bad[3] = Number.NaN;
    expectError(() => index.add(100, bad), 'hnsw', /component 3 is NaN; expected finite/);
    expectError(() => index.search(bad, 1), 'hnsw', /NaN/);
    const inf = Array.from({ length: DIM }, (_, i) => (i === 0 ? Number.POSITIVE_INFINITY : 0));
    expectError(() => index.update(0, inf), 'hnsw', /Infinity/);
    const batch = uniformData(5, DIM, 42);
    batch[2 * DIM + 1] = Number.NaN;
    expectError(
      () => index.addBatch([200, 201, 202, 203, 204], batch),
      'hnsw',
      /vector 2 \(label 202\)/,
    );
    expect(Buffer.from(index.toBytes()).equals(Buffer.from(before))).toBe(true);
    expect(index.has(200)).toBe(false);
  });

  it('checks the dimension on every call', () => {
    const index = small();
    const short = new Float32Array(DIM - 1);
    expectError(() => index.add(100, short), 'hnsw', /dimension 7; expected dimension 8/);
    expectError(() => index.search(short, 1), 'hnsw', /dimension 7; expected dimension 8/);
    expectError(() => index.update(1, new Float32Array(DIM + 1)), 'hnsw', /dimension 9/);
    expectError(() => index.searchExact(short, 1), 'hnsw', /dimension 7/);
    expectError(
      () => index.addBatch([100, 101], new Float32Array(DIM * 3)),
      'hnsw',
      /expected 2 labels x dimension 8 = 16/,
    );
    expectError(() => index.addBatch([100], [short]), 'hnsw', /dimension 7/);
  });

  it('rejects k larger than the index, k < 1 and non-integer k', () => {
    const index = small();
    const q = row(uniformData(1, DIM, 43), 0, DIM);
    expectError(
      () => index.search(q, 21),
      'hnsw',
      /k = 21 but the index holds 20 vectors; expected k <= 20/,
    );
    expectError(() => index.searchExact(q, 21), 'hnsw', /k = 21/);
    index.delete(0);
    expectError(() => index.search(q, 20), 'hnsw', /holds 19 vectors/);
    expectError(() => index.search(q, 0), 'hnsw', /k must be an integer >= 1, got 0/);
    expectError(() => index.search(q, 1.5), 'hnsw', /k must be an integer/);
    expect(index.search(q, 19).labels).toHaveLength(19);
    expectError(() => new HnswIndex({ dim: DIM }).search(q, 1), 'hnsw', /holds 0 vectors/);
  });

  it('rejects bad labels, duplicates and bad options', () => {
    const index = small();
    const v = new Float32Array(DIM).fill(1);
    expectError(() => index.add(-1, v), 'hnsw', /non-negative safe integer, got -1/);
    expectError(() => index.add(1.5, v), 'hnsw', /got 1.5/);
    expectError(() => index.add(3, v), 'hnsw', /label 3 is already in the index/);
    expectError(() => index.addBatch([500, 500], [v, v]), 'hnsw', /label 500 appears twice/);
    expectError(() => index.update(999, v), 'hnsw', /label 999 is not in the index/);
    expectError(() => index.getVector(999), 'hnsw', /label 999/);
    expectError(
      () => new HnswIndex({ dim: 0 }),
      'hnsw',
      /dim must be an integer in \[1, 65536\], got 0/,
    );
    expectError(() => new HnswIndex({ dim: 4, M: 1 }), 'hnsw', /M must be/);
    expectError(
      () => new HnswIndex({ dim: 4, metric: 'dot' as 'l2' }),
      'hnsw',
      /metric must be 'l2', 'ip' or 'cosine'/,
    );
    expectError(
      () => new HnswIndex({ dim: 4, metric: 'cosine' }).add(1, [0, 0, 0, 0]),
      'hnsw',
      /non-zero vector/,
    );
  });

  it('brute force checks the same things', () => {
    const bf = new BruteForceIndex({ dim: DIM });
    bf.addBatch(range(5), uniformData(5, DIM, 44));
    expectError(() => bf.search(new Float32Array(DIM), 6), 'brute-force', /k = 6/);
    expectError(
      () => bf.add(9, new Float32Array(3)),
      'brute-force',
      /dimension 3; expected dimension 8/,
    );
    expectError(() => bf.add(9, new Float32Array(DIM).fill(Number.NaN)), 'brute-force', /NaN/);
    expect(bf.size).toBe(5);
  });
});
