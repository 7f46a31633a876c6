import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { erdosRenyi } from '../../generators/random-graphs.js';
import { arbitraryGraph, loadFixture } from '../test-helpers.js';
import { approximateResistances } from './approx.js';
import { laplacianPseudoinverse } from './dense.js';
import {
  commuteTime,
  effectiveResistance,
  effectiveResistanceMatrix,
  totalEffectiveResistance,
} from './exact.js';

interface ResistanceCase {
  name: string;
  n: number;
  edges: number[][];
  weighted: boolean;
  pairs: number[][];
  commute: number[][];
  traceLplus: number;
  total: number;
}

const { cases } = loadFixture<{ cases: ResistanceCase[] }>('resistance.json');

function build(c: ResistanceCase): CsrGraph {
  const g = CsrGraph.fromEdges(
    c.n,
    c.edges.map((e) => e[0]!),
    c.edges.map((e) => e[1]!),
  );
  if (!c.weighted) return g;
  // fromEdges sorts rows, so look each arc's weight up by its endpoints.
  const w = new Map<number, number>();
  for (const [u, v, x] of c.edges) {
    w.set(u! * c.n + v!, x!);
    w.set(v! * c.n + u!, x!);
  }
  const { src, dst } = g.toEdges();
  return g.withWeights(Float32Array.from(src, (u, p) => w.get(u * c.n + dst[p]!)!));
}

describe('exact effective resistance (networkx / numpy fixtures)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const g = build(c);
    const R = effectiveResistanceMatrix(g);
    for (const [a, b, r] of c.pairs) {
      expect(R[a! * c.n + b!]).toBeCloseTo(r!, 9);
      expect(R[b! * c.n + a!]).toBeCloseTo(r!, 9);
    }
    expect(effectiveResistance(g, c.pairs[0]![0]!, c.pairs[0]![1]!)).toBeCloseTo(
      c.pairs[0]![2]!,
      9,
    );
    for (const [a, b, ct] of c.commute) expect(commuteTime(g, a!, b!) / ct!).toBeCloseTo(1, 9);
    const P = laplacianPseudoinverse(g);
    let trace = 0;
    for (let u = 0; u < c.n; u++) trace += P[u * c.n + u]!;
    expect(trace).toBeCloseTo(c.traceLplus, 9);
    expect(totalEffectiveResistance(g) / c.total).toBeCloseTo(1, 10);
  });

  it('is a metric that is 0 on the diagonal, Infinity across components', () => {
    fc.assert(
      fc.property(arbitraryGraph(9, 20), (g) => {
        const n = g.numNodes;
        const R = effectiveResistanceMatrix(g);
        for (let u = 0; u < n; u++) {
          expect(R[u * n + u]).toBe(0);
          for (let v = 0; v < n; v++) {
            expect(R[u * n + v]).toBe(R[v * n + u]);
            for (let w = 0; w < n; w++) {
              if (Number.isFinite(R[u * n + w]!)) {
                expect(R[u * n + w]!).toBeLessThanOrEqual(R[u * n + v]! + R[v * n + w]! + 1e-9);
              }
            }
          }
          // An edge's resistance never exceeds 1 (one unit conductor in parallel with the rest).
          for (const v of g.neighbours(u))
            if (v !== u) expect(R[u * n + v]!).toBeLessThanOrEqual(1 + 1e-9);
        }
        const total = totalEffectiveResistance(g);
        if (n <= 1) expect(total).toBe(0);
        else if (R.some((x) => !Number.isFinite(x))) expect(total).toBe(Number.POSITIVE_INFINITY);
      }),
      { numRuns: 80 },
    );
  });

  it('gives the series/parallel values on a path and a cycle', () => {
    const path = CsrGraph.fromEdges(5, [0, 1, 2, 3], [1, 2, 3, 4]);
    expect(effectiveResistance(path, 0, 4)).toBeCloseTo(4, 12);
    const cycle = CsrGraph.fromEdges(6, [0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]);
    // Two arcs of lengths 2 and 4 in parallel: 2·4/6.
    expect(effectiveResistance(cycle, 0, 2)).toBeCloseTo(8 / 6, 12);
    expect(commuteTime(cycle, 0, 2)).toBeCloseTo(12 * (8 / 6), 10);
  });

  it('rejects directed graphs, bad weights and bad node ids', () => {
    expect(() => effectiveResistanceMatrix(CsrGraph.empty(2, true))).toThrow(GraphCoreError);
    const g = CsrGraph.fromEdges(2, [0], [1]);
    expect(() => effectiveResistanceMatrix(g.withWeights(new Float32Array([0, 0])))).toThrow(
      /positive/,
    );
    expect(() => effectiveResistance(g, 0, 2)).toThrow(/out of range/);
  });
});

describe('Spielman–Srivastava approximation', () => {
  it('is within the stated ε = 0.3 of exact on every fixture pair and every edge', () => {
    for (const c of cases) {
      const g = build(c);
      const sketch = approximateResistances(g, { epsilon: 0.3, seed: 1 });
      const R = effectiveResistanceMatrix(g);
      for (const [a, b, r] of c.pairs)
        expect(Math.abs(sketch.resistance(a!, b!) / r! - 1)).toBeLessThan(0.3);
      const arcs = sketch.arcResistances();
      const { src, dst } = g.toEdges();
      for (let p = 0; p < arcs.length; p++) {
        expect(Math.abs(arcs[p]! / R[src[p]! * c.n + dst[p]!]! - 1)).toBeLessThan(0.3);
      }
      expect(Math.abs(sketch.totalEffectiveResistance() / c.total - 1)).toBeLessThan(0.1);
    }
  });

  it('tracks the exact total on a larger sparse graph and handles components', () => {
    const g = erdosRenyi(300, 0.03, { seed: 4 });
    const sketch = approximateResistances(g, { numProjections: 200, seed: 2 });
    const R = effectiveResistanceMatrix(g);
    for (let u = 0; u < 300; u += 17) {
      for (let v = 1; v < 300; v += 23) {
        const exact = R[u * 300 + v]!;
        if (!Number.isFinite(exact)) expect(sketch.resistance(u, v)).toBe(Number.POSITIVE_INFINITY);
        else if (exact > 0)
          expect(Math.abs(sketch.resistance(u, v) / exact - 1)).toBeLessThan(0.35);
      }
    }
    expect(approximateResistances(CsrGraph.empty(0)).totalEffectiveResistance()).toBe(0);
    expect(approximateResistances(CsrGraph.empty(1)).totalEffectiveResistance()).toBe(0);
    expect(() => approximateResistances(g, { epsilon: 2 })).toThrow(/epsilon/);
  });
});
