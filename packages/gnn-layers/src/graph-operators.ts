import type { CsrGraph } from '@plexus/graph-core';
import type { CsrMatrix } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** The sparse operators a layer can aggregate with. */
export type OperatorKind = 'sum' | 'mean' | 'gcn' | 'sumSelfLoops';

interface Operators {
  matrices: Partial<Record<OperatorKind, CsrMatrix>>;
  rowIds: Partial<Record<OperatorKind, tf.Tensor1D>>;
}

const cache = new WeakMap<CsrGraph, Operators>();

/**
 * Rows of the message matrix are targets, columns sources: node `i`
 * aggregates over arcs `j -> i`. CSR rows of a directed graph list
 * out-neighbours, so directed graphs are transposed; undirected ones store
 * both arcs and need nothing.
 */
function targetsByRow(graph: CsrGraph): CsrGraph {
  return graph.directed ? graph.transpose() : graph;
}

function entry(graph: CsrGraph): Operators {
  let ops = cache.get(graph);
  if (ops === undefined) {
    ops = { matrices: {}, rowIds: {} };
    cache.set(graph, ops);
  }
  return ops;
}

/**
 * The graph's aggregation matrix of the given kind, built once per graph and
 * cached: `sum` (plain adjacency), `mean` (each row sums to 1), `gcn`
 * (`D^-1/2 (A + I) D^-1/2`, Kipf & Welling 2017), `sumSelfLoops` (`A + I`, the
 * attention pattern of GAT).
 */
export function aggregationMatrix(graph: CsrGraph, kind: OperatorKind): CsrMatrix {
  const ops = entry(graph);
  let m = ops.matrices[kind];
  if (m === undefined) {
    const g = targetsByRow(graph);
    const derived =
      kind === 'sum'
        ? g
        : kind === 'mean'
          ? g.rowNormalize()
          : kind === 'gcn'
            ? g.gcnNormalize()
            : g.addSelfLoops();
    m = derived.toCsrMatrix();
    ops.matrices[kind] = m;
  }
  return m;
}

/** Target node of every entry of {@link aggregationMatrix}, as a kept int32 tensor (softmax segments). */
export function aggregationRowIds(graph: CsrGraph, kind: OperatorKind): tf.Tensor1D {
  const ops = entry(graph);
  let ids = ops.rowIds[kind];
  if (ids === undefined || ids.isDisposed) {
    const m = aggregationMatrix(graph, kind);
    ids = tf.keep(tf.tensor1d(m.rowIds(), 'int32'));
    ops.rowIds[kind] = ids;
  }
  return ids;
}

/** Release the device tensors cached for `graph`. */
export function disposeGraphOperators(graph: CsrGraph): void {
  const ops = cache.get(graph);
  if (ops === undefined) return;
  for (const m of Object.values(ops.matrices)) m?.dispose();
  for (const t of Object.values(ops.rowIds)) t?.dispose();
  cache.delete(graph);
}
