import { describe, expect, it } from 'vitest';
import {
  CsrGraph,
  connectedComponents,
  coreNumbers,
  distanceRings,
  fastRP,
  fromGraphology,
  laplacianPE,
  multiSourceBfs,
  randomFeaturePropagation,
  randomWalkPE,
  toGraphology,
} from '../src/index.js';

const cases: [string, CsrGraph][] = [
  ['empty graph', CsrGraph.empty(0)],
  ['single node', CsrGraph.empty(1)],
  ['single self loop', CsrGraph.fromEdges(1, [0], [0])],
  ['isolated nodes', CsrGraph.empty(4)],
  ['multi-edge pair', CsrGraph.fromEdges(2, [0, 0, 1], [1, 1, 0])],
];

describe.each(cases)('every algorithm accepts the %s', (_name, g) => {
  it('traversal, components and cores', () => {
    const n = g.numNodes;
    expect(coreNumbers(g).length).toBe(n);
    expect(connectedComponents(g).component.length).toBe(n);
    expect(multiSourceBfs(g, []).every((d) => d === -1)).toBe(true);
    expect(distanceRings(g, 2).indptr[1]!.length).toBe(n + 1);
    expect(fromGraphology(toGraphology(g)).graph.numEdges).toBe(g.numEdges);
  });

  it('normalisations and subgraphs', () => {
    const n = g.numNodes;
    expect(g.gcnNormalize().numEdges).toBeGreaterThanOrEqual(n);
    expect(Array.from(g.rowNormalize().weights!).every(Number.isFinite)).toBe(true);
    expect(g.addSelfLoops().numNodes).toBe(n);
    expect(g.inducedSubgraph([]).graph.numNodes).toBe(0);
    expect(CsrGraph.batch([g, g]).graph.numNodes).toBe(2 * n);
  });

  it('positional encodings are finite with the right shape', () => {
    const n = g.numNodes;
    const all = [
      fastRP(g, { dim: 8 }),
      laplacianPE(g, 2).pe,
      randomWalkPE(g, 3),
      randomFeaturePropagation(g, { channels: 2, steps: 2 }),
    ];
    expect(all.map((a) => a.length)).toEqual([8 * n, 2 * n, 3 * n, 6 * n]);
    for (const a of all) expect(Array.from(a).every(Number.isFinite)).toBe(true);
  });
});
