import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { erdosRenyi, randomRegular } from '../../generators/random-graphs.js';
import { arbitraryGraph, graphFromPairs, loadFixture } from '../test-helpers.js';
import { hctgaAttack } from './hctga.js';
import { adaptiveHighDegreeAttack, coreHdAttack } from './heuristics.js';
import { isKCoreAttackSet, kCoreMask, residualKCoreSize } from './kcore.js';

interface KCoreCase {
  name: string;
  n: number;
  edges: number[][];
  k: number;
  core: number[];
}

const methods = {
  adaptiveHighDegree: adaptiveHighDegreeAttack,
  coreHd: coreHdAttack,
  hctga: (g: CsrGraph, k: number, o: { seed?: number }) =>
    hctgaAttack(g, k, { ...o, initialSweeps: 10 }),
};

describe('kCoreMask', () => {
  const { cases } = loadFixture<{ cases: KCoreCase[] }>('kcore.json');
  it.each(cases.map((c) => [`${c.name} k=${c.k}`, c] as const))(
    'matches networkx k_core on %s',
    (_, c) => {
      const mask = kCoreMask(graphFromPairs(c.n, c.edges), c.k);
      const core = [...mask.keys()].filter((u) => mask[u] === 1);
      expect(core).toEqual(c.core);
    },
  );

  it('rejects directed graphs and bad k', () => {
    expect(() => kCoreMask(CsrGraph.empty(3, true), 2)).toThrow(GraphCoreError);
    expect(() => kCoreMask(CsrGraph.empty(3), 0)).toThrow(/k must be a positive integer/);
    expect(() => residualKCoreSize(CsrGraph.empty(3), 2, [5])).toThrow(/not a node id/);
  });
});

describe('K-core attack methods', () => {
  it.each(Object.entries(methods))('%s needs n - K deletions on a complete graph', (_, attack) => {
    const n = 7;
    const src: number[] = [];
    const dst: number[] = [];
    for (let u = 0; u < n; u++)
      for (let v = u + 1; v < n; v++) {
        src.push(u);
        dst.push(v);
      }
    const g = CsrGraph.fromEdges(n, src, dst);
    for (const k of [2, 3, 4]) {
      const res = attack(g, k, { seed: 1 });
      expect(res.attackSet.length).toBe(n - k);
      expect(isKCoreAttackSet(g, k, res.attackSet)).toBe(true);
    }
  });

  it.each(Object.entries(methods))(
    '%s returns a valid, duplicate-free set inside the core',
    (_, attack) => {
      fc.assert(
        fc.property(arbitraryGraph(14, 50), fc.integer({ min: 1, max: 4 }), (g, k) => {
          const res = attack(g, k, { seed: 3 });
          const core = kCoreMask(g, k);
          expect(isKCoreAttackSet(g, k, res.attackSet)).toBe(true);
          expect(new Set(res.attackSet).size).toBe(res.attackSet.length);
          for (const u of res.attackSet) expect(core[u]).toBe(1);
          expect(res.initialCoreSize).toBe(core.reduce((a, b) => a + b, 0));
          if (g.numNodes === 0) expect(res.fraction).toBe(0);
        }),
        { numRuns: 60 },
      );
    },
  );

  it('needs a single deletion on a connected 3-regular graph with K = 3', () => {
    // Any deletion drops its neighbours below 3 and the cascade reaches everything.
    const g = randomRegular(100, 3, { seed: 2 });
    for (const attack of Object.values(methods))
      expect(attack(g, 3, { seed: 0 }).attackSet.length).toBe(1);
  });

  it('never beats the edge-counting lower bound on D-regular graphs', () => {
    // Each pruned vertex has at most K-1 later neighbours, so with S deleted
    // Dn/2 - D|S| <= (K-1)(n-|S|) - K(K-1)/2 (see bench/kcore-attack.ts).
    for (const [d, k] of [
      [3, 2],
      [5, 3],
      [6, 3],
    ] as const) {
      const n = 300;
      const g = randomRegular(n, d, { seed: 5 });
      const bound = Math.ceil(((d * n) / 2 - (k - 1) * n + (k * (k - 1)) / 2) / (d - k + 1));
      for (const attack of Object.values(methods)) {
        const res = attack(g, k, { seed: 0 });
        expect(isKCoreAttackSet(g, k, res.attackSet)).toBe(true);
        expect(res.attackSet.length).toBeGreaterThanOrEqual(bound);
      }
    }
  });

  it('needs one deletion per cycle component for K = 2', () => {
    // Two disjoint cycles and a path: decycling needs exactly one vertex per cycle.
    const src = [0, 1, 2, 3, 4, 5, 6, 7, 9];
    const dst = [1, 2, 3, 0, 5, 6, 7, 4, 10];
    const g = CsrGraph.fromEdges(11, src, dst);
    for (const attack of Object.values(methods))
      expect(attack(g, 2, { seed: 0 }).attackSet.length).toBe(2);
  });
});

describe('hCTGA versus CoreHD (n = 2000, fixed seeds)', () => {
  it('finds a smaller attack set on a random 4-regular graph with K = 3', () => {
    const g = randomRegular(2000, 4, { seed: 11 });
    const h = hctgaAttack(g, 3, { seed: 1 });
    const c = coreHdAttack(g, 3, { seed: 1 });
    expect(isKCoreAttackSet(g, 3, h.attackSet)).toBe(true);
    expect(h.fraction).toBeLessThan(c.fraction);
    // Also below CoreHD with the same reinsertion clean-up.
    expect(h.fraction).toBeLessThan(coreHdAttack(g, 3, { seed: 1, refine: true }).fraction);
  });

  it('finds a smaller attack set on an Erdős–Rényi graph (mean degree 5) with K = 3', () => {
    const g = erdosRenyi(2000, 5 / 1999, { seed: 12 });
    const h = hctgaAttack(g, 3, { seed: 1 });
    const c = coreHdAttack(g, 3, { seed: 1 });
    expect(isKCoreAttackSet(g, 3, h.attackSet)).toBe(true);
    expect(h.fraction).toBeLessThan(c.fraction);
  });

  it('rejects bad options', () => {
    const g = randomRegular(20, 4, { seed: 1 });
    expect(() => hctgaAttack(g, 3, { layers: 0 })).toThrow(/layers must be a positive integer/);
    expect(() => hctgaAttack(g, 3, { damping: 1 })).toThrow(/damping must be in/);
  });
});
