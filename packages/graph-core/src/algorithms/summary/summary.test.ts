import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { erdosRenyi } from '../../generators/random-graphs.js';
import { hierarchicalSbm } from '../../generators/sbm.js';
import { graphFromPairs } from '../test-helpers.js';
import { expandSummary, supernodeMembers } from './decode.js';
import { slugger } from './slugger.js';
import { summaryCost } from './types.js';

function expectSameGraph(a: CsrGraph, b: CsrGraph): void {
  expect(a.numNodes).toBe(b.numNodes);
  expect(Array.from(a.indptr)).toEqual(Array.from(b.indptr));
  expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
}

/** Simple graphs that may carry self loops: 0..maxN nodes, any edge set. */
const graphsWithLoops = fc.integer({ min: 0, max: 16 }).chain((n) =>
  fc
    .array(fc.tuple(fc.nat(Math.max(0, n - 1)), fc.nat(Math.max(0, n - 1))), {
      maxLength: n === 0 ? 0 : 70,
    })
    .map((pairs) =>
      CsrGraph.fromEdges(
        n,
        pairs.map((p) => p[0]),
        pairs.map((p) => p[1]),
        { dedupe: true },
      ),
    ),
);

describe('expandSummary', () => {
  it('decodes a hand-made summary', () => {
    // Supernode 3 = {0, 1, 2}: a positive self superedge (a triangle) minus edge 0-1.
    const s = {
      numNodes: 4,
      parent: Int32Array.of(4, 4, 4, -1, -1),
      positive: Int32Array.of(4, 4, 3, 3),
      negative: Int32Array.of(0, 1),
    };
    const g = expandSummary(s);
    expect(g.hasEdge(0, 2)).toBe(true);
    expect(g.hasEdge(1, 2)).toBe(true);
    expect(g.hasEdge(0, 1)).toBe(false);
    expect(g.hasEdge(3, 3)).toBe(true);
    expect(g.numEdges).toBe(5);
    expect(summaryCost(s)).toBe(2 + 1 + 3);
    expect(Array.from(supernodeMembers(s)[4]!)).toEqual([0, 1, 2]);
  });

  it('rejects summaries whose net cover leaves {0, 1} or whose forest is broken', () => {
    const twice = {
      numNodes: 2,
      parent: Int32Array.of(-1, -1),
      positive: Int32Array.of(0, 1, 0, 1),
      negative: new Int32Array(0),
    };
    expect(() => expandSummary(twice)).toThrow(/covered 2 times/);
    const loop = {
      numNodes: 1,
      parent: Int32Array.of(1, 1),
      positive: new Int32Array(0),
      negative: new Int32Array(0),
    };
    expect(() => expandSummary(loop)).toThrow(GraphCoreError);
  });
});

describe('SLUGGER', () => {
  it('reconstructs arbitrary graphs exactly (empty, single node, disconnected, self loops)', () => {
    fc.assert(
      fc.property(graphsWithLoops, fc.integer({ min: 0, max: 1000 }), (g, seed) => {
        const res = slugger(g, { iterations: 6, seed });
        expectSameGraph(expandSummary(res.summary), g);
        expect(res.cost).toBe(summaryCost(res.summary));
        expect(res.summary.parent.length).toBeGreaterThanOrEqual(g.numNodes);
      }),
      { numRuns: 120 },
    );
  });

  it('reconstructs random and block-structured graphs exactly and compresses the latter', () => {
    const er = erdosRenyi(150, 0.05, { seed: 3 });
    const r1 = slugger(er, { iterations: 8, seed: 1 });
    expectSameGraph(expandSummary(r1.summary), er);
    // A random sparse graph has nothing to share: the summary is about the edge list.
    expect(r1.compressionRatio).toBeLessThanOrEqual(1.05);

    const h = hierarchicalSbm({
      branching: [2, 3],
      leafSize: 20,
      p: [0.01, 0.05, 0.9],
      seed: 2,
    }).graph;
    const g = h.withLabels(undefined);
    const r2 = slugger(g, { iterations: 10, seed: 1 });
    expectSameGraph(expandSummary(r2.summary), g);
    expect(r2.compressionRatio).toBeLessThan(0.5);
  });

  it('summarises a clique with a handful of superedges and links', () => {
    const n = 16;
    const e: number[][] = [];
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) e.push([a, b]);
    const g = graphFromPairs(n, e);
    const res = slugger(g, { iterations: 10, seed: 0 });
    expectSameGraph(expandSummary(res.summary), g);
    expect(res.numEdges).toBe(120);
    expect(res.compressionRatio).toBeLessThan(0.3);
  });

  it('is deterministic per seed and rejects bad input', () => {
    const g = erdosRenyi(40, 0.2, { seed: 5 });
    expect(slugger(g, { seed: 4, iterations: 5 })).toEqual(slugger(g, { seed: 4, iterations: 5 }));
    expect(() => slugger(CsrGraph.empty(2, true))).toThrow(/undirected/);
    expect(() => slugger(CsrGraph.fromEdges(2, [0, 0], [1, 1]))).toThrow(/multi-edges/);
    expect(() => slugger(g, { maxSupernodeSize: 0 })).toThrow(/maxSupernodeSize/);
    const empty = slugger(CsrGraph.empty(0));
    expect(empty.compressionRatio).toBe(1);
    expect(empty.cost).toBe(0);
  });
});
