import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { bfsDistances } from '../../traversal/bfs.js';
import { totalEffectiveResistance } from '../resistance/exact.js';
import { arbitraryGraph, graphFromPairs, loadFixture } from '../test-helpers.js';
import { MutableGraph } from './adjacency.js';
import { balancedFormanCurvature, balancedFormanEdge } from './curvature.js';
import { greedyResistanceRewiring } from './greedy-resistance.js';
import { laser } from './laser.js';
import { sdrf } from './sdrf.js';

interface BfcCase {
  name: string;
  n: number;
  edges: number[][];
  curvature: number[][];
}
interface GtrCase {
  name: string;
  n: number;
  edges: number[][];
  initial: number;
  added: number[][];
  totals: number[];
}

/** Two 5-cliques joined through a 3-node path: a classic bottleneck. */
function dumbbell(): CsrGraph {
  const e: number[][] = [];
  for (const off of [0, 8])
    for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) e.push([off + a, off + b]);
  e.push([4, 5], [5, 6], [6, 7], [7, 8]);
  return graphFromPairs(13, e);
}

function minCurvature(g: CsrGraph): number {
  const c = balancedFormanCurvature(g);
  return c.length === 0 ? 0 : Math.min(...c);
}

describe('Balanced Forman curvature', () => {
  const { cases } = loadFixture<{ cases: BfcCase[] }>('bfc.json');
  it.each(cases.map((c) => [c.name, c] as const))('matches the fixture on %s', (_, c) => {
    const g = graphFromPairs(c.n, c.edges);
    const m = new MutableGraph(g, 'test');
    for (const [u, v, ric] of c.curvature) {
      expect(balancedFormanEdge(m, u!, v!)).toBeCloseTo(ric!, 12);
      expect(balancedFormanEdge(m, v!, u!)).toBeCloseTo(ric!, 12);
    }
  });

  it('gives the hand-computed values', () => {
    // K_n: n / (n - 1); 4-cycle: 1; longer cycles and trees of degree 2: 0; leaves: 0.
    for (const n of [3, 4, 6]) {
      const e: number[][] = [];
      for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) e.push([a, b]);
      for (const c of balancedFormanCurvature(graphFromPairs(n, e)))
        expect(c).toBeCloseTo(n / (n - 1), 12);
    }
    const c4 = graphFromPairs(4, [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
    ]);
    for (const c of balancedFormanCurvature(c4)) expect(c).toBeCloseTo(1, 12);
    const c6 = graphFromPairs(6, [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 0],
    ]);
    for (const c of balancedFormanCurvature(c6)) expect(c).toBeCloseTo(0, 12);
    const star = graphFromPairs(4, [
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    for (const c of balancedFormanCurvature(star)) expect(c).toBe(0);
    // The clique-to-path edges of the dumbbell (degrees 5 and 2) are the most negative: 2/5 + 2/2 - 2.
    expect(minCurvature(dumbbell())).toBeCloseTo(2 / 5 + 2 / 2 - 2, 12);
  });

  it('is symmetric and bounded below by -2 on random graphs', () => {
    fc.assert(
      fc.property(arbitraryGraph(12, 40), (g) => {
        const c = balancedFormanCurvature(g);
        const { src, dst } = g.toEdges();
        for (let p = 0; p < c.length; p++) {
          expect(c[p]!).toBeGreaterThan(-2);
          expect(balancedFormanEdge(new MutableGraph(g, 't'), dst[p]!, src[p]!)).toBeCloseTo(
            c[p]!,
            12,
          );
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('SDRF', () => {
  it('raises the minimum curvature of a bottleneck graph', () => {
    const g = dumbbell();
    const res = sdrf(g, { iterations: 6, seed: 1 });
    expect(res.added.length).toBeGreaterThan(0);
    expect(res.removed).toEqual([]);
    expect(minCurvature(res.graph)).toBeGreaterThan(minCurvature(g));
    for (const [u, v] of res.added) {
      expect(g.hasEdge(u, v)).toBe(false);
      expect(res.graph.hasEdge(u, v)).toBe(true);
    }
    expect(res.graph.numEdges / 2).toBe(g.numEdges / 2 + res.added.length);
  });

  it('removes only edges curved above the bound and is reproducible', () => {
    const g = dumbbell();
    const res = sdrf(g, { iterations: 5, removalBound: 1, seed: 2 });
    expect(res.removed.length).toBeGreaterThan(0);
    for (const [u, v] of res.removed) expect(res.graph.hasEdge(u, v)).toBe(false);
    expect(sdrf(g, { iterations: 5, removalBound: 1, seed: 2 })).toEqual(res);
  });

  it('handles empty and edgeless graphs and rejects bad input', () => {
    expect(sdrf(CsrGraph.empty(0)).added).toEqual([]);
    expect(sdrf(CsrGraph.empty(3)).graph.numEdges).toBe(0);
    expect(() => sdrf(CsrGraph.empty(2, true))).toThrow(GraphCoreError);
    expect(() => sdrf(dumbbell(), { temperature: 0 })).toThrow(/temperature must be positive/);
  });
});

describe('LASER', () => {
  it('adds only local edges, to the least connected nodes of each ring, lowering R_tot', () => {
    const g = dumbbell();
    const res = laser(g, { orders: 2, density: 0.5, seed: 1 });
    expect(res.added.length).toBeGreaterThan(0);
    expect(res.removed).toEqual([]);
    res.added.forEach(([u, v], t) => {
      const d = bfsDistances(g, u);
      expect(d[v]).toBe(res.orderOf[t]! + 1);
    });
    expect(totalEffectiveResistance(res.graph)).toBeLessThan(totalEffectiveResistance(g));
  });

  it('prefers the pair with fewer shortest paths', () => {
    // From 0, nodes 3 (one path 0-1-3) and 4 (two paths 0-1-4, 0-2-4) sit at distance 2.
    const g = graphFromPairs(5, [
      [0, 1],
      [0, 2],
      [1, 3],
      [1, 4],
      [2, 4],
    ]);
    const res = laser(g, { orders: 1, density: 0.5, seed: 0 });
    expect(res.added).toContainEqual([0, 3]);
    expect(res.added).not.toContainEqual([0, 4]);
  });

  it('keeps the input edges on random graphs', () => {
    fc.assert(
      fc.property(arbitraryGraph(12, 30), (g) => {
        const res = laser(g, { seed: 3 });
        const { src, dst } = g.toEdges();
        for (let p = 0; p < src.length; p++) {
          if (src[p] !== dst[p]) expect(res.graph.hasEdge(src[p]!, dst[p]!)).toBe(true);
        }
        expect(new Set(res.added.map(([u, v]) => u * 100 + v)).size).toBe(res.added.length);
      }),
      { numRuns: 40 },
    );
    expect(() => laser(dumbbell(), { density: 0 })).toThrow(/density/);
  });
});

describe('greedy total-resistance rewiring', () => {
  const { cases } = loadFixture<{ cases: GtrCase[] }>('gtr.json');
  it.each(cases.map((c) => [c.name, c] as const))('matches brute-force greedy on %s', (_, c) => {
    const g = graphFromPairs(c.n, c.edges);
    const res = greedyResistanceRewiring(g, { numEdges: c.added.length });
    expect(res.initialTotalResistance).toBeCloseTo(c.initial, 8);
    expect(res.added).toEqual(c.added);
    res.totalResistance.forEach((t, i) => {
      expect(t).toBeCloseTo(c.totals[i]!, 7);
    });
    expect(totalEffectiveResistance(res.graph)).toBeCloseTo(c.totals[c.totals.length - 1]!, 7);
  });

  it('strictly lowers R_tot at every step and rejects disconnected graphs', () => {
    const res = greedyResistanceRewiring(dumbbell(), { numEdges: 5 });
    let prev = res.initialTotalResistance;
    for (const t of res.totalResistance) {
      expect(t).toBeLessThan(prev);
      prev = t;
    }
    expect(() => greedyResistanceRewiring(CsrGraph.empty(3))).toThrow(/connected/);
    expect(greedyResistanceRewiring(CsrGraph.empty(1)).added).toEqual([]);
  });
});
