import { describe, expect, it } from 'vitest';
import { HnswIndex } from '../src/index.js';
import { clusteredData, range, recall, referenceTopK, row, uniformData } from './helpers.js';

const DIM = 32;
const N = 3000;
const Q = 100;

function measure(
  index: HnswIndex,
  data: Float32Array,
  queries: Float32Array,
  metric: 'l2' | 'ip' | 'cosine',
  ef: number,
): number {
  const got: number[][] = [];
  const truth: number[][] = [];
  for (let q = 0; q < Q; q++) {
    const query = row(queries, q, DIM);
    got.push(index.search(query, 10, { efSearch: ef }).labels);
    truth.push(referenceTopK(metric, data, DIM, query, 10));
  }
  return recall(got, truth);
}

describe('recall against float64 brute force', () => {
  // Base vectors and queries come from one draw so queries follow the same
  // distribution (for clusters: the same centres).
  const datasets = {
    uniform: () => uniformData(N + Q, DIM, 1),
    clustered: () => clusteredData(N + Q, DIM, 20, 2),
  };
  for (const [name, make] of Object.entries(datasets)) {
    for (const metric of ['l2', 'ip', 'cosine'] as const) {
      it(`${name} data, ${metric}: recall@10 >= 0.95 at efSearch 64 and grows with ef`, () => {
        const all = make();
        const data = all.subarray(0, N * DIM);
        const queries = all.subarray(N * DIM);
        const index = new HnswIndex({ dim: DIM, metric, M: 12, efConstruction: 100, seed: 7 });
        index.addBatch(range(N), data);
        expect(index.size).toBe(N);
        const low = measure(index, data, queries, metric, 10);
        const high = measure(index, data, queries, metric, 64);
        // Inner product is not a metric, so graph search on it is harder;
        // hnswlib shows the same gap.
        expect(high).toBeGreaterThanOrEqual(metric === 'ip' ? 0.9 : 0.95);
        expect(high).toBeGreaterThanOrEqual(low);
      });
    }
  }

  it('returns the distances of the reference, nearest first', () => {
    const data = uniformData(500, DIM, 3);
    const index = new HnswIndex({ dim: DIM });
    index.addBatch(range(500), data);
    const query = row(uniformData(1, DIM, 4), 0, DIM);
    const hit = index.search(query, 5, { efSearch: 500 });
    const truth = referenceTopK('l2', data, DIM, query, 5);
    expect(hit.labels).toEqual(truth);
    for (let i = 0; i < 5; i++) {
      let d = 0;
      const v = row(data, hit.labels[i]!, DIM);
      for (let j = 0; j < DIM; j++) d += (query[j]! - v[j]!) ** 2;
      expect(hit.distances[i]!).toBeCloseTo(d, 3);
      if (i > 0) expect(hit.distances[i]!).toBeGreaterThanOrEqual(hit.distances[i - 1]!);
    }
  });

  it('extendCandidates and keepPrunedConnections build usable graphs', () => {
    const all = clusteredData(2000 + Q, DIM, 10, 5);
    const data = all.subarray(0, 2000 * DIM);
    const queries = all.subarray(2000 * DIM);
    for (const opts of [{ extendCandidates: true }, { keepPrunedConnections: true }]) {
      const index = new HnswIndex({ dim: DIM, M: 8, efConstruction: 64, ...opts });
      index.addBatch(range(2000), data);
      expect(measure(index, data, queries, 'l2', 64)).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('the same seed builds the same index; another seed draws other levels', () => {
    const data = uniformData(1000, DIM, 6);
    const build = (seed: number): Uint8Array => {
      const index = new HnswIndex({ dim: DIM, seed });
      index.addBatch(range(1000), data);
      return index.toBytes();
    };
    expect(Buffer.from(build(1)).equals(Buffer.from(build(1)))).toBe(true);
    expect(Buffer.from(build(1)).equals(Buffer.from(build(2)))).toBe(false);
  });

  it('the plain-JS kernel builds an index of the same quality as the wasm kernel', () => {
    const all = uniformData(1500 + Q, 16, 8);
    const data = all.subarray(0, 1500 * 16);
    const queries = all.subarray(1500 * 16);
    const scores = (['wasm', 'js'] as const).map((kernel) => {
      const index = new HnswIndex({ dim: 16, M: 8, efConstruction: 64, kernel });
      expect(index.kernel).toBe(kernel);
      index.addBatch(range(1500), data);
      const got: number[][] = [];
      const truth: number[][] = [];
      for (let q = 0; q < Q; q++) {
        const query = queries.subarray(q * 16, (q + 1) * 16);
        got.push(index.search(query, 10, { efSearch: 48 }).labels);
        truth.push(referenceTopK('l2', data, 16, query, 10));
      }
      return recall(got, truth);
    });
    expect(scores[1]!).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(scores[0]! - scores[1]!)).toBeLessThanOrEqual(0.01);
  });

  it('uses level multiplier 1/ln(M) and M0 = 2M by default', () => {
    const index = new HnswIndex({ dim: 4, M: 16 });
    expect(index.config.levelMultiplier).toBeCloseTo(1 / Math.log(16), 12);
    expect(index.config.M0).toBe(32);
    expect(index.config.efConstruction).toBe(200);
  });
});
