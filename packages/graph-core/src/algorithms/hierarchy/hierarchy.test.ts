import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsrGraph } from '../../csr/csr-graph.js';
import { hierarchicalSbm } from '../../generators/sbm.js';
import { arbitraryGraph } from '../test-helpers.js';
import { bottomUpHierarchy } from './bottom-up.js';
import { adjustedRandIndex, cutDendrogram, type Dendrogram } from './dendrogram.js';
import { topDownHierarchy } from './top-down.js';

/** ARI of the dendrogram cut at each planted level (level l has `counts[l]` communities). */
function levelScores(d: Dendrogram, levels: readonly Int32Array[], counts: number[]): number[] {
  return counts.map((k, l) => adjustedRandIndex(cutDendrogram(d, k), levels[l]!));
}

function checkShape(d: Dendrogram, n: number): void {
  expect(d.leafOf.length).toBe(n);
  expect(d.merges.length).toBe(Math.max(0, d.numLeaves - 1));
  const used = new Set<number>();
  d.merges.forEach(([a, b], t) => {
    // Each cluster is merged once, and only after it exists.
    for (const c of [a, b]) {
      expect(c).toBeLessThan(d.numLeaves + t);
      expect(used.has(c)).toBe(false);
      used.add(c);
    }
  });
  for (let k = Math.min(1, d.numLeaves); k <= d.numLeaves; k++) {
    expect(new Set(cutDendrogram(d, k)).size).toBe(k);
  }
}

describe('adjustedRandIndex', () => {
  it('gives the textbook values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [5, 5, 2, 2])).toBe(1);
    // sklearn.metrics.adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 4/7.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(4 / 7, 12);
    // and ([0,0,1,1],[0,1,0,1]) = -0.5.
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    expect(() => adjustedRandIndex([0], [0, 1])).toThrow(/differ in length/);
  });
});

describe('bottom-up versus top-down on hierarchical SBMs', () => {
  it('both recover a well-separated planted tree exactly', () => {
    const h = hierarchicalSbm({ branching: [2, 2], leafSize: 100, p: [0.01, 0.05, 0.25], seed: 1 });
    const bu = bottomUpHierarchy(h.graph, { numCommunities: 4, seed: 1 });
    const td = topDownHierarchy(h.graph, { depth: 2, seed: 1 });
    checkShape(bu, h.graph.numNodes);
    checkShape(td, h.graph.numNodes);
    expect(levelScores(bu, h.levels, [2, 4])).toEqual([1, 1]);
    expect(levelScores(td, h.levels, [2, 4])).toEqual([1, 1]);
    // Sibling leaves merge first: the two merges below the root join planted siblings.
    const top = cutDendrogram(bu, 2);
    expect(adjustedRandIndex(top, h.levels[0]!)).toBe(1);
  });

  it('bottom-up recovers the tree where top-down bipartition errs (4 leaves per group)', () => {
    // Each top group holds 4 dense leaves; the top-level signal of the averaged
    // density is close to the leaf-level one, so the first spectral cut mixes them.
    const h = hierarchicalSbm({ branching: [2, 4], leafSize: 50, p: [0.01, 0.015, 0.2], seed: 3 });
    const bu = bottomUpHierarchy(h.graph, { numCommunities: 8, seed: 3 });
    const td = topDownHierarchy(h.graph, { depth: 1, seed: 3 });
    const [buTop, buLeaf] = levelScores(bu, h.levels, [2, 8]);
    expect(buTop).toBe(1);
    expect(buLeaf).toBe(1);
    expect(adjustedRandIndex(cutDendrogram(td, 2), h.levels[0]!)).toBeLessThan(0.95);
  });

  it('uses given leaf labels and merges by average linkage', () => {
    // Leaves {0,1} and {2,3} linked by 2 edges out of 4 pairs; {4,5} hangs on by 1 of 4.
    const g = CsrGraph.fromEdges(6, [0, 2, 4, 0, 1, 3], [1, 3, 5, 2, 3, 4]);
    const d = bottomUpHierarchy(g, { leafLabels: [7, 7, 8, 8, 9, 9] });
    expect(d.merges).toEqual([
      [0, 1],
      [3, 2],
    ]);
    expect(Array.from(d.heights)).toEqual([0.5, 1 / 8]);
  });

  it('gives valid dendrograms on arbitrary graphs (empty, single node, disconnected)', () => {
    fc.assert(
      fc.property(arbitraryGraph(14, 30), fc.integer({ min: 1, max: 4 }), (g, k) => {
        const bu = bottomUpHierarchy(g, { numCommunities: k, seed: 2 });
        checkShape(bu, g.numNodes);
        expect(bu.numLeaves).toBeLessThanOrEqual(Math.min(k, g.numNodes));
        const td = topDownHierarchy(g, { depth: 2, seed: 2 });
        checkShape(td, g.numNodes);
        expect(td.numLeaves).toBeLessThanOrEqual(Math.max(1, Math.min(4, g.numNodes)));
      }),
      { numRuns: 40 },
    );
  });

  it('rejects bad input', () => {
    const g = CsrGraph.empty(3);
    expect(() => bottomUpHierarchy(g)).toThrow(/numCommunities must be a positive integer/);
    expect(() => bottomUpHierarchy(g, { leafLabels: [0] })).toThrow(/one entry per node/);
    expect(() => topDownHierarchy(g, { depth: -1 })).toThrow(/depth/);
    expect(() => cutDendrogram(bottomUpHierarchy(g, { numCommunities: 2 }), 5)).toThrow(
      /k must be/,
    );
  });
});
