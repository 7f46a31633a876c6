import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';

/**
 * Throws unless `graph` is undirected with positive finite weights (its arcs
 * are read as conductances; self loops are ignored by every Laplacian here).
 */
export function checkLaplacianInput(graph: CsrGraph, module = 'algorithms/resistance'): void {
  if (graph.directed) {
    throw new GraphCoreError(module, 'expected an undirected graph, got a directed one');
  }
  const w = graph.weights;
  if (w === undefined) return;
  for (let p = 0; p < w.length; p++) {
    if (!(w[p]! > 0 && Number.isFinite(w[p]!))) {
      throw new GraphCoreError(
        module,
        `edge weights must be positive and finite, got ${w[p]} at arc ${p}`,
      );
    }
  }
}

/** Weighted degree of every node, self loops excluded (the Laplacian's diagonal). */
export function laplacianDiagonal(graph: CsrGraph): Float64Array {
  const { indptr, indices, weights } = graph;
  const d = new Float64Array(graph.numNodes);
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      if (indices[p] !== u) d[u]! += weights === undefined ? 1 : weights[p]!;
    }
  }
  return d;
}

/** y = L x for the graph Laplacian L = D - A (self loops ignored). */
export function laplacianMatvec(
  graph: CsrGraph,
  diag: Float64Array,
  x: Float64Array,
  y: Float64Array,
): void {
  const { indptr, indices, weights } = graph;
  for (let u = 0; u < graph.numNodes; u++) {
    let s = diag[u]! * x[u]!;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v !== u) s -= (weights === undefined ? 1 : weights[p]!) * x[v]!;
    }
    y[u] = s;
  }
}

/** Dense row-major Laplacian (n × n) of the nodes `nodes` (their induced subgraph). */
export function denseLaplacian(graph: CsrGraph, nodes: Int32Array): Float64Array {
  const m = nodes.length;
  const local = new Map<number, number>();
  for (let i = 0; i < m; i++) local.set(nodes[i]!, i);
  const { indptr, indices, weights } = graph;
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const u = nodes[i]!;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const j = local.get(indices[p]!);
      if (j === undefined || j === i) continue;
      const w = weights === undefined ? 1 : weights[p]!;
      L[i * m + j]! -= w;
      L[i * m + i]! += w;
    }
  }
  return L;
}
