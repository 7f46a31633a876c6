import type { CsrGraph } from '@plexus/graph-core';
import { spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix, aggregationRowIds } from '../graph-operators.js';

/**
 * Aggregation of the environment network over the incoming arcs: `sum` of
 * the active ones; `mean` over the active ones (the paper's definition);
 * `degree-mean`, the active sum divided by the full in-degree, which is what
 * the authors' code computes (PyG's mean aggregation of gated messages
 * counts closed arcs too).
 */
export type GatedAggregation = 'sum' | 'mean' | 'degree-mean';

/**
 * Messages on the directed graph that Co-GNN's actions induce: arc `j -> i`
 * carries weight `listen_i · broadcast_j`, and node `i` receives
 * `Σ_{j -> i} listen_i broadcast_j h_j` (`sum`), or that divided by the
 * number (total weight) of active incoming arcs, at least 1 (`mean`), or by
 * the number of incoming arcs, active or not, at least 1 (`degree-mean`). The
 * gates are spmm edge weights, one per stored arc, so no `[E, F]` message
 * matrix is built and gradients reach `listen` and `broadcast` (an SDDMM).
 * `listen`, `broadcast` are `[N]` and usually exactly 0/1 in the forward
 * pass (straight-through samples); arc weights of a weighted graph multiply in.
 */
export function gatedMessages(
  graph: CsrGraph,
  h: tf.Tensor2D,
  listen: tf.Tensor1D,
  broadcast: tf.Tensor1D,
  aggregation: GatedAggregation = 'sum',
): tf.Tensor2D {
  const a = aggregationMatrix(graph, 'sum');
  const t = a.tensors.get();
  const targets = aggregationRowIds(graph, 'sum');
  let w = tf.mul(tf.gather(listen, targets), tf.gather(broadcast, t.indices)) as tf.Tensor1D;
  if (t.values !== undefined) w = tf.mul(w, t.values) as tf.Tensor1D;
  const summed = spmm(a, h, { weights: w });
  if (aggregation === 'sum') return summed;
  const ones = tf.ones([graph.numNodes, 1]) as tf.Tensor2D;
  const count =
    aggregation === 'mean'
      ? spmm(a, ones, { weights: w })
      : spmm(a, ones, { weights: tf.onesLike(w), weightsRequireGrad: false });
  return tf.div(summed, tf.maximum(count, 1)) as tf.Tensor2D;
}
