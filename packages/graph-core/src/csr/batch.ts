import { GraphCoreError } from '../errors.js';
import type { CsrGraph, CsrGraphInit } from './csr-graph.js';
import { concatFeatures, type NodeFeatures } from './features.js';

/** Several graphs as one block-diagonal graph. */
export interface CsrGraphBatch {
  /** The disjoint union; graph `g`'s node `u` is node `nodeOffsets[g] + u`. */
  readonly graph: CsrGraph;
  /** Which input graph each node came from. */
  readonly graphIndex: Int32Array;
  /** Start of each graph's node block, length `graphs.length + 1`. */
  readonly nodeOffsets: Int32Array;
}

/** Arrays of the block-diagonal union (the class wraps them, avoiding an import cycle). */
export function batchGraphs(graphs: readonly CsrGraph[]): {
  init: CsrGraphInit;
  graphIndex: Int32Array;
  nodeOffsets: Int32Array;
} {
  if (graphs.length === 0) throw new GraphCoreError('csr', 'batch needs at least one graph');
  const first = graphs[0]!;
  const nodeOffsets = new Int32Array(graphs.length + 1);
  let arcs = 0;
  graphs.forEach((g, i) => {
    if (g.directed !== first.directed) {
      throw new GraphCoreError(
        'csr',
        `batch needs graphs of one kind: graph ${i} is ${g.directed ? '' : 'un'}directed`,
      );
    }
    if ((g.features === undefined) !== (first.features === undefined)) {
      throw new GraphCoreError(
        'csr',
        `batch needs features on all graphs or none (graph ${i} differs)`,
      );
    }
    if ((g.labels === undefined) !== (first.labels === undefined)) {
      throw new GraphCoreError(
        'csr',
        `batch needs labels on all graphs or none (graph ${i} differs)`,
      );
    }
    nodeOffsets[i + 1] = nodeOffsets[i]! + g.numNodes;
    arcs += g.numEdges;
  });
  const n = nodeOffsets[graphs.length]!;
  // Mixed weighted/unweighted batches are fine: unweighted arcs get weight 1.
  const weighted = graphs.some((g) => g.weights !== undefined);
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(arcs);
  const weights = weighted ? new Float32Array(arcs).fill(1) : undefined;
  const graphIndex = new Int32Array(n);
  let e0 = 0;
  graphs.forEach((g, i) => {
    const off = nodeOffsets[i]!;
    graphIndex.fill(i, off, off + g.numNodes);
    for (let u = 1; u <= g.numNodes; u++) indptr[off + u] = e0 + g.indptr[u]!;
    for (let p = 0; p < g.numEdges; p++) indices[e0 + p] = g.indices[p]! + off;
    if (weights !== undefined && g.weights !== undefined) weights.set(g.weights, e0);
    e0 += g.numEdges;
  });
  let features: NodeFeatures | undefined;
  if (first.features !== undefined) features = concatFeatures(graphs.map((g) => g.features!));
  let labels: Int32Array | undefined;
  if (first.labels !== undefined) {
    labels = new Int32Array(n);
    const out = labels;
    graphs.forEach((g, i) => {
      out.set(g.labels!, nodeOffsets[i]!);
    });
  }
  return {
    init: { indptr, indices, weights, directed: first.directed, features, labels },
    graphIndex,
    nodeOffsets,
  };
}
