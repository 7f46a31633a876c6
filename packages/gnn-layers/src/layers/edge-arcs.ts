import type { CsrGraph } from '@plexus/graph-core';
import { GnnLayersError } from '../errors.js';

/**
 * Source and target node of every arc, indexed in the graph's own CSR order
 * (arc `p` is stored in row `u` at `graph.indices[p]`, as `graph.toEdges()`
 * lists it). This is the order edge-feature tensors `[numArcs, F]` use.
 *
 * - Undirected graphs store both arcs of an edge; aggregation matrices keep
 *   the graph as is (rows = targets), so arc `p` in row `u` carries the
 *   message `indices[p] -> u`: target `u`, source `indices[p]`.
 * - Directed graphs store out-arcs by row, so arc `p` in row `u` is
 *   `u -> indices[p]`: target `indices[p]`. The aggregation matrix is the
 *   transpose, but no permutation of edge features into its order is made:
 *   messages are summed by target id, which segment ops accept unsorted.
 */
export interface EdgeArcs {
  readonly source: Int32Array;
  readonly target: Int32Array;
}

const cache = new WeakMap<CsrGraph, EdgeArcs>();

/** {@link EdgeArcs} of `graph`, computed once per graph. */
export function edgeArcs(graph: CsrGraph): EdgeArcs {
  let arcs = cache.get(graph);
  if (arcs === undefined) {
    const { src, dst } = graph.toEdges();
    arcs = graph.directed ? { source: src, target: dst } : { source: dst, target: src };
    cache.set(graph, arcs);
  }
  return arcs;
}

/** Throws unless `e` is float32 `[graph.numEdges, edgeDim]` (one row per CSR arc). */
export function checkEdgeFeatures(
  kind: string,
  graph: CsrGraph,
  e: { rank: number; dtype: string; shape: number[] },
  edgeDim: number,
): void {
  if (
    e.rank !== 2 ||
    e.dtype !== 'float32' ||
    e.shape[0] !== graph.numEdges ||
    e.shape[1] !== edgeDim
  ) {
    throw new GnnLayersError(
      kind,
      `edge features must be a float32 [${graph.numEdges}, ${edgeDim}] (numArcs in CSR order, edgeDim) tensor, got ${e.dtype} [${e.shape.join(', ')}]`,
    );
  }
}
