import { describe, expect, it } from 'vitest';
import { CsrGraph, GraphCoreError } from '../src/index.js';

const arr = (a: ArrayLike<number>) => Array.from(a);

describe('CsrGraph.fromEdges', () => {
  it('builds sorted undirected rows with both arcs per edge', () => {
    const g = CsrGraph.fromEdges(4, [2, 0, 1], [0, 1, 3]);
    expect(g.numNodes).toBe(4);
    expect(g.numEdges).toBe(6);
    expect(arr(g.indptr)).toEqual([0, 2, 4, 5, 6]);
    expect(arr(g.indices)).toEqual([1, 2, 0, 3, 0, 1]);
    expect(g.directed).toBe(false);
    expect(arr(g.degree())).toEqual([2, 2, 1, 1]);
  });

  it('keeps direction, multi-edges and self loops unless told otherwise', () => {
    const g = CsrGraph.fromEdges(3, [0, 0, 1, 2], [1, 1, 1, 0], { directed: true });
    expect(arr(g.indices)).toEqual([1, 1, 1, 0]);
    expect(arr(g.degree('in'))).toEqual([1, 3, 0]);
    const d = CsrGraph.fromEdges(3, [0, 0, 1, 2], [1, 1, 1, 0], {
      directed: true,
      dedupe: true,
      selfLoops: 'drop',
    });
    expect(arr(d.indptr)).toEqual([0, 1, 1, 2]);
    expect(arr(d.indices)).toEqual([1, 0]);
  });

  it('merges duplicate weights as asked', () => {
    const src = [0, 1, 0];
    const dst = [1, 0, 1];
    const w = [1, 2, 4];
    const first = CsrGraph.fromEdges(2, src, dst, { weights: w, dedupe: true });
    expect(arr(first.weights!)).toEqual([1, 1]);
    const sum = CsrGraph.fromEdges(2, src, dst, { weights: w, dedupe: true, mergeWeights: 'sum' });
    expect(arr(sum.weights!)).toEqual([7, 7]);
    const max = CsrGraph.fromEdges(2, src, dst, { weights: w, dedupe: true, mergeWeights: 'max' });
    expect(arr(max.weights!)).toEqual([4, 4]);
  });

  it('rejects out-of-range ids with a GraphCoreError', () => {
    expect(() => CsrGraph.fromEdges(2, [0], [2])).toThrow(/graph-core\/csr: target id 2 of edge 0/);
    try {
      CsrGraph.fromEdges(2, [0.5], [1]);
    } catch (e) {
      expect(GraphCoreError.isInstance(e)).toBe(true);
    }
  });
});

describe('CsrGraph operations', () => {
  const path = CsrGraph.fromEdges(3, [0, 1], [1, 2]);

  it('transposes directed graphs', () => {
    const g = CsrGraph.fromEdges(3, [0, 0, 2], [1, 2, 1], { directed: true, weights: [1, 2, 3] });
    const t = g.transpose();
    expect(arr(t.indptr)).toEqual([0, 0, 2, 3]);
    expect(arr(t.indices)).toEqual([0, 2, 0]);
    expect(arr(t.weights!)).toEqual([1, 3, 2]);
    expect(path.transpose()).toBe(path);
  });

  it('adds remaining self loops idempotently', () => {
    const g = CsrGraph.fromEdges(3, [0, 1, 2], [1, 2, 2]).addSelfLoops();
    expect(arr(g.indices)).toEqual([0, 1, 0, 1, 2, 1, 2]);
    expect(arr(g.addSelfLoops().indices)).toEqual(arr(g.indices));
  });

  it('gcnNormalize gives D^-1/2 (A+I) D^-1/2', () => {
    const g = path.gcnNormalize();
    // degrees of A+I: 2, 3, 2
    expect(arr(g.indices)).toEqual([0, 1, 0, 1, 2, 1, 2]);
    const w = arr(g.weights!);
    const expected = [
      1 / 2,
      1 / Math.sqrt(6),
      1 / Math.sqrt(6),
      1 / 3,
      1 / Math.sqrt(6),
      1 / Math.sqrt(6),
      1 / 2,
    ];
    w.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 6);
    });
  });

  it('rowNormalize makes rows sum to one', () => {
    const g = path.rowNormalize();
    expect(arr(g.weights!)).toEqual([1, 0.5, 0.5, 1]);
  });

  it('induced subgraph relabels and keeps labels', () => {
    const g = CsrGraph.fromEdges(4, [0, 1, 2, 3], [1, 2, 3, 0]).withLabels(
      Int32Array.from([5, 6, 7, 8]),
    );
    const sub = g.inducedSubgraph([2, 1, 0]);
    expect(arr(sub.nodes)).toEqual([2, 1, 0]);
    expect(arr(sub.graph.indptr)).toEqual([0, 1, 3, 4]);
    expect(arr(sub.graph.indices)).toEqual([1, 0, 2, 1]);
    expect(arr(sub.graph.labels!)).toEqual([7, 6, 5]);
    expect(() => g.inducedSubgraph([1, 1])).toThrow(/listed twice/);
  });

  it('k-hop neighbourhood with hop counts', () => {
    const g = CsrGraph.fromEdges(5, [0, 1, 2, 3], [1, 2, 3, 4]);
    const h = g.kHopNeighbourhood([2], 1);
    expect(arr(h.nodes)).toEqual([2, 1, 3]);
    expect(arr(h.hops)).toEqual([0, 1, 1]);
    expect(h.graph.numEdges).toBe(4);
  });

  it('batches block-diagonally', () => {
    const b = CsrGraph.batch([path, CsrGraph.fromEdges(2, [0], [1])]);
    expect(b.graph.numNodes).toBe(5);
    expect(arr(b.graphIndex)).toEqual([0, 0, 0, 1, 1]);
    expect(arr(b.nodeOffsets)).toEqual([0, 3, 5]);
    expect(arr(b.graph.indices)).toEqual([1, 0, 2, 1, 4, 3]);
  });
});

describe('CsrGraph.toCsrMatrix', () => {
  it('hands the same buffers to @plexus/tensor without copying', () => {
    const g = CsrGraph.fromEdges(4, [0, 1, 2], [1, 2, 3]).gcnNormalize();
    const m = g.toCsrMatrix();
    expect(m.numRows).toBe(4);
    expect(m.numCols).toBe(4);
    expect(m.nnz).toBe(g.numEdges);
    expect(m.indptr).toBe(g.indptr);
    expect(m.indices).toBe(g.indices);
    expect(m.values).toBe(g.weights);
    const unweighted = CsrGraph.fromEdges(2, [0], [1]).toCsrMatrix();
    expect(unweighted.values).toBeUndefined();
  });
});
