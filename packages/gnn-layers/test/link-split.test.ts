import { CsrGraph } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import { GnnLayersError, splitLinks } from '../src/index.js';

function randomGraph(n: number, m: number, seed: number): CsrGraph {
  const rng = new SeededRandom(seed);
  const src = Int32Array.from({ length: m }, () => rng.int(n));
  const dst = Int32Array.from({ length: m }, () => rng.int(n));
  return CsrGraph.fromEdges(n, src, dst, { directed: false, dedupe: true, selfLoops: 'drop' });
}

describe('splitLinks', () => {
  const graph = randomGraph(60, 300, 3);
  const numEdges = graph.numEdges / 2;

  it('never leaks held-out edges into the message-passing graph', () => {
    const s = splitLinks(graph, { validFraction: 0.05, testFraction: 0.1, seed: 7 });
    for (const set of [s.valid.positive, s.test.positive]) {
      for (let p = 0; p < set.src.length; p++) {
        expect(graph.hasEdge(set.src[p]!, set.dst[p]!)).toBe(true);
        expect(s.graph.hasEdge(set.src[p]!, set.dst[p]!)).toBe(false);
        expect(s.graph.hasEdge(set.dst[p]!, set.src[p]!)).toBe(false);
      }
    }
    expect(s.test.positive.src.length).toBe(Math.floor(numEdges * 0.1));
    expect(s.valid.positive.src.length).toBe(Math.floor(numEdges * 0.05));
    expect(s.train.src.length + s.valid.positive.src.length + s.test.positive.src.length).toBe(
      numEdges,
    );
    expect(s.graph.numEdges).toBe(2 * s.train.src.length);
    for (let p = 0; p < s.train.src.length; p++)
      expect(s.graph.hasEdge(s.train.src[p]!, s.train.dst[p]!)).toBe(true);
  });

  it('samples as many distinct non-edges, disjoint across sets', () => {
    const s = splitLinks(graph, { seed: 1 });
    const keys = new Set<string>();
    for (const h of [s.valid, s.test]) {
      expect(h.negative.src.length).toBe(h.positive.src.length);
      for (let p = 0; p < h.negative.src.length; p++) {
        const u = h.negative.src[p]!;
        const v = h.negative.dst[p]!;
        expect(u).not.toBe(v);
        expect(graph.hasEdge(u, v)).toBe(false);
        keys.add(`${u},${v}`);
      }
    }
    expect(keys.size).toBe(s.valid.negative.src.length + s.test.negative.src.length);
  });

  it('is seeded', () => {
    const a = splitLinks(graph, { seed: 5 });
    const b = splitLinks(graph, { seed: 5 });
    const c = splitLinks(graph, { seed: 6 });
    expect(Array.from(a.test.positive.src)).toEqual(Array.from(b.test.positive.src));
    expect(Array.from(a.test.negative.dst)).toEqual(Array.from(b.test.negative.dst));
    expect(Array.from(a.test.positive.src)).not.toEqual(Array.from(c.test.positive.src));
  });

  it('rejects directed graphs and bad fractions', () => {
    const directed = CsrGraph.fromEdges(3, [0], [1], { directed: true });
    expect(() => splitLinks(directed)).toThrow(GnnLayersError);
    expect(() => splitLinks(graph, { validFraction: 0.6, testFraction: 0.5 })).toThrow(/fractions/);
  });
});
