import { describe, expect, it } from 'vitest';
import type { CsrGraph, DenseFeatures } from '../src/index.js';
import {
  barabasiAlbert,
  connectedComponents,
  erdosRenyi,
  grid2d,
  hierarchicalSbm,
  Rng,
  randomRegular,
  ringTransfer,
  stochasticBlockModel,
  treeNeighborsMatch,
  triangulatedMesh,
} from '../src/index.js';

function isSimpleUndirected(g: CsrGraph): boolean {
  for (let u = 0; u < g.numNodes; u++) {
    const row = g.neighbours(u);
    for (let i = 0; i < row.length; i++) {
      if (row[i] === u || (i > 0 && row[i] === row[i - 1])) return false;
      if (!g.hasEdge(row[i]!, u)) return false;
    }
  }
  return true;
}

describe('Rng', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(new Rng(43).next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('random graphs', () => {
  it('G(n, p) is simple, seeded, and has about p·n(n-1)/2 edges', () => {
    const g = erdosRenyi(400, 0.05, { seed: 3 });
    expect(isSimpleUndirected(g)).toBe(true);
    const edges = g.numEdges / 2;
    const mean = (0.05 * (400 * 399)) / 2;
    expect(Math.abs(edges - mean)).toBeLessThan(5 * Math.sqrt(mean));
    expect(Array.from(erdosRenyi(400, 0.05, { seed: 3 }).indices)).toEqual(Array.from(g.indices));
    expect(erdosRenyi(10, 1).numEdges).toBe(90);
    expect(erdosRenyi(10, 0).numEdges).toBe(0);
    const d = erdosRenyi(50, 1, { directed: true });
    expect(d.numEdges).toBe(50 * 49);
  });

  it('Barabási–Albert has m + (n-m-1)m edges and is connected and simple', () => {
    const g = barabasiAlbert(500, 3, { seed: 1 });
    expect(g.numEdges / 2).toBe(3 + (500 - 4) * 3);
    expect(isSimpleUndirected(g)).toBe(true);
    expect(connectedComponents(g).count).toBe(1);
  });

  it('random regular graphs are simple and d-regular', () => {
    for (const [n, d] of [
      [20, 3],
      [100, 6],
      [11, 10],
    ] as const) {
      const g = randomRegular(n, d, { seed: n });
      expect(isSimpleUndirected(g)).toBe(true);
      expect(Array.from(g.degree()).every((x) => x === d)).toBe(true);
    }
    expect(() => randomRegular(5, 3)).toThrow(/n \* d must be even/);
  });

  it('SBM puts denser edges inside blocks', () => {
    const { graph, blocks } = stochasticBlockModel(
      [50, 50],
      [
        [0.3, 0.01],
        [0.01, 0.3],
      ],
      { seed: 2 },
    );
    let inside = 0;
    let across = 0;
    for (let u = 0; u < graph.numNodes; u++) {
      for (const v of graph.neighbours(u)) {
        if (blocks[u] === blocks[v]) inside++;
        else across++;
      }
    }
    expect(inside).toBeGreaterThan(10 * across);
    expect(isSimpleUndirected(graph)).toBe(true);
    expect(() =>
      stochasticBlockModel(
        [2, 2],
        [
          [0.1, 0.2],
          [0.3, 0.1],
        ],
      ),
    ).toThrow(/symmetric/);
  });

  it('hierarchical SBM returns its ground-truth hierarchy', () => {
    const h = hierarchicalSbm({ branching: [2, 3], leafSize: 10, p: [0.001, 0.05, 0.5], seed: 4 });
    expect(h.graph.numNodes).toBe(60);
    expect(h.levels.length).toBe(2);
    expect(Array.from(h.levels[0]!.subarray(0, 31))).toEqual([...new Array(30).fill(0), 1]);
    expect(Array.from(h.levels[1]!)).toEqual(Array.from(h.blocks));
    expect(Array.from(h.parents[1]!)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(h.parents[0]!)).toEqual([0, 0]);
  });
});

describe('lattices', () => {
  it('grid and torus edge counts', () => {
    expect(grid2d(3, 4).graph.numEdges / 2).toBe(3 * 3 + 2 * 4);
    const torus = grid2d(3, 4, { periodic: true });
    expect(Array.from(torus.graph.degree()).every((d) => d === 4)).toBe(true);
    expect(grid2d(2, 2).positions.length).toBe(8);
  });

  it('triangulated mesh satisfies Euler: V - E + F = 1 for a disc', () => {
    const m = triangulatedMesh(5, 6);
    const V = m.graph.numNodes;
    const E = m.graph.numEdges / 2;
    const F = m.faces.length / 3;
    expect(V - E + F).toBe(1);
    for (let f = 0; f < F; f++) {
      const [a, b, c] = [m.faces[3 * f]!, m.faces[3 * f + 1]!, m.faces[3 * f + 2]!];
      expect(m.graph.hasEdge(a, b) && m.graph.hasEdge(b, c) && m.graph.hasEdge(c, a)).toBe(true);
    }
  });
});

describe('long-range tasks', () => {
  it('ring transfer puts the class at distance floor(n/2) from the target', () => {
    const t = ringTransfer({ ringSize: 10, count: 20, seed: 1 });
    expect(t.graphs.length).toBe(20);
    for (let i = 0; i < 20; i++) {
      const g = t.graphs[i]!;
      const f = g.features as DenseFeatures;
      const hot = f.data.indexOf(1);
      expect(Math.floor(hot / 5)).toBe(5);
      expect(hot % 5).toBe(t.labels[i]);
      expect(g.labels![0]).toBe(t.labels[i]);
    }
  });

  it('tree NeighborsMatch labels the root with the matching leaf value', () => {
    for (const depth of [2, 4]) {
      const t = treeNeighborsMatch({ depth, count: 10, seed: depth });
      expect(t.numClasses).toBe(2 ** depth);
      for (let i = 0; i < 10; i++) {
        const g = t.graphs[i]!;
        expect(g.numNodes).toBe(2 ** (depth + 1) - 1);
        const x = (g.features as DenseFeatures).data;
        const key = x[0]!;
        let match = -1;
        for (let u = 1; u < g.numNodes; u++) if (x[2 * u] === key) match = x[2 * u + 1]! - 1;
        expect(match).toBe(t.labels[i]);
        // Arcs point to the parent (plus self loops): every non-root has out-degree 2.
        expect(g.hasEdge(1, 0) && g.hasEdge(2, 0) && !g.hasEdge(0, 1)).toBe(true);
      }
    }
  });
});
