import { describe, expect, it } from 'vitest';
import { HnswIndex } from '../src/index.js';
import { clusteredData, range, recall, referenceTopK, row } from './helpers.js';

const DIM = 24;
const N = 4000;
const Q = 80;

describe('parallel build with worker_threads', () => {
  it('builds an index of the same quality as a single-threaded build', async () => {
    const all = clusteredData(N + Q, DIM, 16, 31);
    const data = all.subarray(0, N * DIM);
    const queries = all.subarray(N * DIM);
    const single = new HnswIndex({ dim: DIM, M: 12, efConstruction: 100 });
    single.addBatch(range(N), data);
    const parallel = new HnswIndex({ dim: DIM, M: 12, efConstruction: 100 });
    // Half sequentially, half in parallel: the parallel path must join an existing graph.
    parallel.addBatch(range(N / 2), data.subarray(0, (N / 2) * DIM));
    await parallel.addBatchParallel(
      range(N / 2).map((i) => i + N / 2),
      data.subarray((N / 2) * DIM),
      { threads: 3 },
    );
    expect(parallel.size).toBe(N);
    const truth: number[][] = [];
    const a: number[][] = [];
    const b: number[][] = [];
    for (let q = 0; q < Q; q++) {
      const query = row(queries, q, DIM);
      truth.push(referenceTopK('l2', data, DIM, query, 10));
      a.push(single.search(query, 10, { efSearch: 40 }).labels);
      b.push(parallel.search(query, 10, { efSearch: 40 }).labels);
    }
    const rs = recall(a, truth);
    const rp = recall(b, truth);
    expect(rp).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(rs - rp)).toBeLessThanOrEqual(0.02);
    // Every vector is reachable: searching for it finds it.
    let found = 0;
    for (let i = 0; i < N; i += 10)
      if (parallel.search(row(data, i, DIM), 1).labels[0] === i) found++;
    expect(found / (N / 10)).toBeGreaterThanOrEqual(0.99);
  });

  it('builds from empty and draws the same levels as a sequential build of the same seed', async () => {
    const data = clusteredData(1200, DIM, 8, 32);
    const p = new HnswIndex({ dim: DIM, seed: 5 });
    await p.addBatchParallel(range(1200), data, { threads: 2 });
    const s = new HnswIndex({ dim: DIM, seed: 5 });
    s.addBatch(range(1200), data);
    // Byte 44 of the header is the top level; levels follow the seed either way.
    const top = (ix: HnswIndex): number => new DataView(ix.toBytes().buffer).getInt32(44, true);
    expect(top(p)).toBe(top(s));
    expect(p.search(row(data, 0, DIM), 1).labels).toEqual([0]);
  });
});
