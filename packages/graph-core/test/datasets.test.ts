import { describe, expect, it } from 'vitest';
import type { SparseFeatures } from '../src/index.js';
import { connectedComponents, loadDataset, rowNormalizeFeatures } from '../src/index.js';

describe('loadDataset("cora")', () => {
  const cora = loadDataset('cora');
  const g = cora.graph;

  it('matches the counts in the dataset README', () => {
    expect(cora.name).toBe('cora');
    expect(g.numNodes).toBe(2708);
    expect(g.numEdges).toBe(10556);
    expect(g.numEdges / 2).toBe(5278);
    expect(g.directed).toBe(false);
    expect(connectedComponents(g).count).toBe(78);
    expect(cora.numClasses).toBe(7);
    expect(cora.numFeatures).toBe(1433);
    const counts = new Array<number>(7).fill(0);
    for (const y of g.labels!) counts[y]!++;
    expect(counts).toEqual([351, 217, 418, 818, 426, 298, 180]);
    let loops = 0;
    for (let u = 0; u < g.numNodes; u++) if (g.hasEdge(u, u)) loops++;
    expect(loops).toBe(0);
  });

  it('has the Planetoid public split 140/500/1000', () => {
    const { train, val, test } = cora.split;
    expect([train.length, val.length, test.length]).toEqual([140, 500, 1000]);
    expect(Array.from(train)).toEqual(Array.from({ length: 140 }, (_, i) => i));
    expect(val[0]).toBe(140);
    expect(val[499]).toBe(639);
    expect(test[0]).toBe(1708);
    expect(test[999]).toBe(2707);
    const perClass = new Array<number>(7).fill(0);
    for (const u of train) perClass[g.labels![u]!]!++;
    expect(perClass).toEqual([20, 20, 20, 20, 20, 20, 20]);
  });

  it('has binary sparse features that row-normalise to sum 1', () => {
    const f = g.features as SparseFeatures;
    expect(f.indices.length).toBe(49216);
    expect(f.values.every((v) => v === 1)).toBe(true);
    const norm = rowNormalizeFeatures(f);
    for (const u of [0, 1000, 2707]) {
      let s = 0;
      for (let p = norm.indptr[u]!; p < norm.indptr[u + 1]!; p++) s += norm.values[p]!;
      expect(s).toBeCloseTo(1, 5);
    }
  });
});
