import { describe, expect, it } from 'vitest';
import { HnswIndex } from '../src/index.js';
import { range, recall, referenceTopK, row, uniformData } from './helpers.js';

const DIM = 16;
const N = 2000;

describe('delete, re-insert and update', () => {
  it('deleted labels are never returned and recall holds over the rest', () => {
    const data = uniformData(N, DIM, 11);
    const index = new HnswIndex({ dim: DIM, M: 12, efConstruction: 100 });
    index.addBatch(range(N), data);
    const gone = new Set(range(N).filter((i) => i % 3 === 0));
    for (const l of gone) expect(index.delete(l)).toBe(true);
    expect(index.delete(0)).toBe(false);
    expect(index.size).toBe(N - gone.size);
    expect(index.has(3)).toBe(false);
    const queries = uniformData(50, DIM, 12);
    const got: number[][] = [];
    const truth: number[][] = [];
    for (let q = 0; q < 50; q++) {
      const query = row(queries, q, DIM);
      const hit = index.search(query, 10, { efSearch: 80 }).labels;
      for (const l of hit) expect(gone.has(l)).toBe(false);
      got.push(hit);
      truth.push(referenceTopK('l2', data, DIM, query, 10, (l) => !gone.has(l)));
    }
    expect(recall(got, truth)).toBeGreaterThanOrEqual(0.95);
  });

  it('re-inserting after deletes reuses the freed slots and finds the new vectors', () => {
    const data = uniformData(N, DIM, 13);
    const index = new HnswIndex({ dim: DIM, capacity: N });
    index.addBatch(range(N), data);
    const before = index.toBytes().length;
    for (let l = 0; l < 500; l++) index.delete(l);
    const fresh = uniformData(500, DIM, 14);
    for (let i = 0; i < 500; i++) index.add(10_000 + i, row(fresh, i, DIM));
    // Same slot count: the file holds exactly as many vectors as before.
    expect(index.toBytes().length).toBe(before);
    expect(index.size).toBe(N);
    let found = 0;
    for (let i = 0; i < 500; i++) {
      const hit = index.search(row(fresh, i, DIM), 1, { efSearch: 64 });
      if (hit.labels[0] === 10_000 + i) found++;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.98);
    // A deleted label can come back.
    index.add(7, row(data, 7, DIM));
    expect(index.search(row(data, 7, DIM), 1).labels).toEqual([7]);
  });

  it('update replaces a vector and re-links it', () => {
    const data = uniformData(N, DIM, 15);
    const index = new HnswIndex({ dim: DIM });
    index.addBatch(range(N), data);
    const moved = uniformData(20, DIM, 16);
    for (let i = 0; i < 20; i++) index.update(i, row(moved, i, DIM));
    for (let i = 0; i < 20; i++) {
      const hit = index.search(row(moved, i, DIM), 1);
      expect(hit.labels[0]).toBe(i);
      expect(hit.distances[0]).toBeCloseTo(0, 6);
      expect(Array.from(index.getVector(i))).toEqual(Array.from(row(moved, i, DIM)));
    }
    // The old positions no longer point at the updated labels.
    const old = index.search(row(data, 0, DIM), 1);
    expect(old.labels[0]).not.toBe(0);
  });

  it('after updating half the vectors, recall stays close to a fresh build of the same data', () => {
    const dim = 24;
    const n = 2500;
    const data = uniformData(n, dim, 61);
    const moved = uniformData(n, dim, 62);
    const index = new HnswIndex({ dim, M: 12, efConstruction: 100 });
    index.addBatch(range(n), data);
    const current = data.slice();
    for (let i = 0; i < n; i += 2) {
      index.update(i, row(moved, i, dim));
      current.set(row(moved, i, dim), i * dim);
    }
    const fresh = new HnswIndex({ dim, M: 12, efConstruction: 100 });
    fresh.addBatch(range(n), current);
    const queries = uniformData(80, dim, 63);
    const truth: number[][] = [];
    const updated: number[][] = [];
    const rebuilt: number[][] = [];
    for (let q = 0; q < 80; q++) {
      const query = row(queries, q, dim);
      truth.push(referenceTopK('l2', current, dim, query, 10));
      updated.push(index.search(query, 10, { efSearch: 24 }).labels);
      rebuilt.push(fresh.search(query, 10, { efSearch: 24 }).labels);
    }
    // Without the neighbour repair (hnswlib's updatePoint), 3,000 x 24 at
    // efSearch 20 measured 0.81 against 0.88 for a fresh build.
    expect(recall(updated, truth)).toBeGreaterThanOrEqual(recall(rebuilt, truth) - 0.04);
  });

  it('filters by label predicate, matching a filtered brute force', () => {
    const data = uniformData(N, DIM, 17);
    const index = new HnswIndex({ dim: DIM });
    index.addBatch(range(N), data);
    index.delete(4);
    const keep = (l: number): boolean => l % 4 === 0;
    const queries = uniformData(40, DIM, 18);
    const got: number[][] = [];
    const truth: number[][] = [];
    for (let q = 0; q < 40; q++) {
      const query = row(queries, q, DIM);
      const hit = index.search(query, 10, { efSearch: 100, filter: keep }).labels;
      expect(hit).toHaveLength(10);
      for (const l of hit) expect(keep(l) && l !== 4).toBe(true);
      got.push(hit);
      truth.push(referenceTopK('l2', data, DIM, query, 10, (l) => keep(l) && l !== 4));
      expect(index.searchExact(query, 10, { filter: keep }).labels).toEqual(truth[q]);
    }
    expect(recall(got, truth)).toBeGreaterThanOrEqual(0.95);
  });
});
