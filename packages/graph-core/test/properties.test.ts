import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketPeel, levelPeel } from '../src/cores/core-number.js';
import {
  bfsDistances,
  CsrGraph,
  connectedComponents,
  coreNumbers,
  fromGraphology,
  toGraphology,
} from '../src/index.js';

/** Random edge lists on up to 25 nodes, including empty graphs, single nodes, self loops and multi-edges. */
const edgeList = fc.integer({ min: 0, max: 25 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    directed: fc.boolean(),
    edges:
      n === 0
        ? fc.constant([] as [number, number][])
        : fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 60 }),
  }),
);

function build(
  c: { n: number; directed: boolean; edges: [number, number][] },
  dedupe = false,
): CsrGraph {
  return CsrGraph.fromEdges(
    c.n,
    c.edges.map((e) => e[0]),
    c.edges.map((e) => e[1]),
    { directed: c.directed, dedupe },
  );
}

/** Naive O(n^2) peeling for core numbers (self loops ignored, multi-edges counted, in+out for directed). */
function naiveCores(g: CsrGraph): number[] {
  const n = g.numNodes;
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (let u = 0; u < n; u++) {
    for (let p = g.indptr[u]!; p < g.indptr[u + 1]!; p++) {
      const v = g.indices[p]!;
      if (v === u) continue;
      adj[u]!.push(v);
      if (g.directed) adj[v]!.push(u);
    }
  }
  const deg = adj.map((a) => a.length);
  const core = new Array<number>(n).fill(0);
  const removed = new Array<boolean>(n).fill(false);
  let k = 0;
  for (let step = 0; step < n; step++) {
    let best = -1;
    for (let u = 0; u < n; u++) if (!removed[u] && (best === -1 || deg[u]! < deg[best]!)) best = u;
    k = Math.max(k, deg[best]!);
    core[best] = k;
    removed[best] = true;
    for (const v of adj[best]!) if (!removed[v]) deg[v]!--;
  }
  return core;
}

describe('CsrGraph properties on random graphs', () => {
  it('rows are sorted, indptr is consistent and undirected graphs are symmetric', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build(c);
        expect(g.indptr[0]).toBe(0);
        expect(g.indptr[g.numNodes]).toBe(g.numEdges);
        for (let u = 0; u < g.numNodes; u++) {
          for (let p = g.indptr[u]! + 1; p < g.indptr[u + 1]!; p++) {
            expect(g.indices[p]!).toBeGreaterThanOrEqual(g.indices[p - 1]!);
          }
        }
        const loops = c.edges.filter(([a, b]) => a === b).length;
        expect(g.numEdges).toBe(c.directed ? c.edges.length : 2 * c.edges.length - loops);
        if (!c.directed) {
          const t = CsrGraph.fromEdges(g.numNodes, g.indices, g.toEdges().src, { directed: true });
          expect(Array.from(t.indices)).toEqual(Array.from(g.indices));
        }
      }),
    );
  });

  it('transpose twice is the identity and in-degree = out-degree of the transpose', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build(c);
        const t = g.transpose();
        expect(Array.from(t.transpose().indices)).toEqual(Array.from(g.indices));
        expect(Array.from(t.degree('out'))).toEqual(Array.from(g.degree('in')));
      }),
    );
  });

  it('graphology -> CSR -> graphology keeps nodes and edges', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build(c);
        const back = fromGraphology(toGraphology(g)).graph;
        expect(back.directed).toBe(g.directed);
        expect(Array.from(back.indptr)).toEqual(Array.from(g.indptr));
        expect(Array.from(back.indices)).toEqual(Array.from(g.indices));
      }),
    );
  });

  it('core numbers equal naive peeling', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build(c);
        expect(Array.from(coreNumbers(g))).toEqual(naiveCores(g));
      }),
    );
  });

  it('BFS distances satisfy the edge relaxation and components agree with reachability', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build({ ...c, directed: false });
        if (g.numNodes === 0) return;
        const d = bfsDistances(g, 0);
        const comp = connectedComponents(g).component;
        for (let u = 0; u < g.numNodes; u++) {
          expect(d[u]! >= 0).toBe(comp[u] === comp[0]);
          for (let p = g.indptr[u]!; p < g.indptr[u + 1]!; p++) {
            const v = g.indices[p]!;
            if (d[u]! >= 0) expect(d[v]!).toBeLessThanOrEqual(d[u]! + 1);
          }
        }
      }),
    );
  });

  it('addSelfLoops is idempotent and gcnNormalize is symmetric on undirected graphs', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build({ ...c, directed: false }, true);
        const a = g.addSelfLoops();
        expect(Array.from(a.addSelfLoops().indices)).toEqual(Array.from(a.indices));
        for (let u = 0; u < g.numNodes; u++) expect(a.hasEdge(u, u)).toBe(true);
        const norm = g.gcnNormalize();
        for (let u = 0; u < norm.numNodes; u++) {
          for (let p = norm.indptr[u]!; p < norm.indptr[u + 1]!; p++) {
            const v = norm.indices[p]!;
            const back = norm.neighbours(v).indexOf(u);
            expect(norm.weights![p]!).toBeCloseTo(norm.neighbourWeights(v)[back]!, 6);
          }
        }
      }),
    );
  });

  it('inducedSubgraph on all nodes in order is the same graph; batch preserves blocks', () => {
    fc.assert(
      fc.property(edgeList, edgeList, (c1, c2) => {
        const g1 = build(c1);
        const g2 = build({ ...c2, directed: c1.directed });
        const all = Int32Array.from({ length: g1.numNodes }, (_, i) => i);
        expect(Array.from(g1.inducedSubgraph(all).graph.indices)).toEqual(Array.from(g1.indices));
        const b = CsrGraph.batch([g1, g2]);
        expect(b.graph.numNodes).toBe(g1.numNodes + g2.numNodes);
        expect(b.graph.numEdges).toBe(g1.numEdges + g2.numEdges);
        const second = b.graph.inducedSubgraph(
          Int32Array.from({ length: g2.numNodes }, (_, i) => i + g1.numNodes),
        );
        expect(Array.from(second.graph.indices)).toEqual(Array.from(g2.indices));
      }),
    );
  });

  it('kHopNeighbourhood hops equal BFS distances', () => {
    fc.assert(
      fc.property(edgeList, fc.nat(3), (c, k) => {
        const g = build(c);
        if (g.numNodes === 0) return;
        const d = bfsDistances(g, 0, { maxDepth: k });
        const h = g.kHopNeighbourhood([0], k);
        expect(h.nodes.length).toBe(Array.from(d).filter((x) => x >= 0).length);
        h.nodes.forEach((u, i) => {
          expect(h.hops[i]).toBe(d[u]);
        });
      }),
    );
  });
});

describe('both k-core peeling strategies', () => {
  it('level peeling, bucket peeling and the budgeted fallback agree with naive peeling', () => {
    fc.assert(
      fc.property(edgeList, (c) => {
        const g = build({ ...c, directed: false });
        const expected = naiveCores(g);
        const deg = Int32Array.from(
          g.degree(),
          (d, u) => d - g.neighbours(u).filter((v) => v === u).length,
        );
        expect(Array.from(bucketPeel(g.numNodes, g.indptr, g.indices, deg.slice()))).toEqual(
          expected,
        );
        const level = levelPeel(
          g.numNodes,
          g.indptr,
          g.indices,
          deg.slice(),
          Number.MAX_SAFE_INTEGER,
        );
        expect(Array.from(level!)).toEqual(expected);
        if (g.numNodes > 0)
          expect(levelPeel(g.numNodes, g.indptr, g.indices, deg.slice(), 0)).toBeUndefined();
      }),
    );
  });
});
