import { type CsrGraph, distanceRings } from '@plexus/graph-core';
import { CsrMatrix } from '@plexus/tensor';
import { GnnLayersError } from '../errors.js';

/** How a ring's messages are combined: mean (default) or plain sum. */
export type RingAggregation = 'mean' | 'sum';

interface RingCache {
  k: number;
  mean: CsrMatrix[];
  sum: CsrMatrix[];
}

const cache = new WeakMap<CsrGraph, RingCache>();

/**
 * Message operators of the k-hop rings: entry `d - 1` is an `[N, N]` CSR
 * matrix whose row `i` holds the nodes `j` at shortest-path distance exactly
 * `d` from `j` to `i` along the arcs (messages flow `j -> i`), weighted `1`
 * (`sum`) or `1 / |ring|` (`mean`). Rings come from graph-core's
 * `distanceRings` (one truncated BFS per node); a directed graph is
 * transposed first so BFS walks arcs backwards, from each target to its
 * sources. Built once per graph and depth and cached; release with
 * {@link disposeRingOperators}.
 */
export function ringOperators(
  graph: CsrGraph,
  k: number,
  aggregation: RingAggregation = 'mean',
): readonly CsrMatrix[] {
  if (!Number.isInteger(k) || k < 1)
    throw new GnnLayersError('k-hop-rings', `k must be an integer >= 1, got ${k}`);
  let entry = cache.get(graph);
  if (entry === undefined || entry.k < k) {
    if (entry !== undefined) for (const m of [...entry.mean, ...entry.sum]) m.dispose();
    entry = build(graph, k);
    cache.set(graph, entry);
  }
  return (aggregation === 'mean' ? entry.mean : entry.sum).slice(0, k);
}

function build(graph: CsrGraph, k: number): RingCache {
  const rings = distanceRings(graph.directed ? graph.transpose() : graph, k);
  const n = graph.numNodes;
  const mean: CsrMatrix[] = [];
  const sum: CsrMatrix[] = [];
  for (let d = 0; d < k; d++) {
    const indptr = rings.indptr[d]!;
    const indices = rings.indices[d]!;
    const meanValues = new Float32Array(indices.length);
    for (let i = 0; i < n; i++) {
      const start = indptr[i]!;
      const end = indptr[i + 1]!;
      meanValues.fill(1 / Math.max(1, end - start), start, end);
    }
    sum.push(CsrMatrix.fromArrays({ indptr, indices, numCols: n }, { validate: false }));
    mean.push(
      CsrMatrix.fromArrays(
        { indptr, indices, values: meanValues, numCols: n },
        { validate: false },
      ),
    );
  }
  return { k, mean, sum };
}

/** Release the ring operators cached for `graph`. */
export function disposeRingOperators(graph: CsrGraph): void {
  const entry = cache.get(graph);
  if (entry === undefined) return;
  for (const m of [...entry.mean, ...entry.sum]) m.dispose();
  cache.delete(graph);
}
