import { segmentMax, segmentMean, segmentSum } from '@plexus/tensor';
import type * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';

/**
 * Throws unless `x` is float32 `[N, F]`, `graphIndex` has one graph id per
 * node and `numGraphs` is a positive integer. Ids themselves are range-checked
 * by the segment ops of `@plexus/tensor`.
 */
export function checkPoolInput(
  kind: string,
  x: tf.Tensor2D,
  graphIndex: Int32Array,
  numGraphs: number,
): void {
  if (x.rank !== 2 || x.dtype !== 'float32') {
    throw new GnnLayersError(
      kind,
      `features must be a float32 [numNodes, numFeatures] tensor, got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  }
  if (!(graphIndex instanceof Int32Array) || graphIndex.length !== x.shape[0]) {
    throw new GnnLayersError(
      kind,
      `graphIndex must be an Int32Array of length ${x.shape[0]} (numNodes), got length ${graphIndex.length}`,
    );
  }
  if (!Number.isInteger(numGraphs) || numGraphs <= 0)
    throw new GnnLayersError(kind, `numGraphs must be a positive integer, got ${numGraphs}`);
}

/**
 * Global add pooling `[N, F] -> [numGraphs, F]` over a block-diagonal batch
 * (`CsrGraph.batch` gives `graphIndex`): the readout GIN uses for graph
 * classification ("How Powerful are Graph Neural Networks?", Xu et al., 2019),
 * since a sum, unlike a mean or max, keeps multiset sizes apart.
 * Graphs with no nodes give zeros.
 */
export function globalSumPool(
  x: tf.Tensor2D,
  graphIndex: Int32Array,
  numGraphs: number,
): tf.Tensor2D {
  checkPoolInput('global-sum-pool', x, graphIndex, numGraphs);
  return segmentSum(x, graphIndex, numGraphs);
}

/**
 * Global mean pooling `[N, F] -> [numGraphs, F]` (one of the readouts Xu et al.
 * compare in "How Powerful are Graph Neural Networks?", 2019): invariant to
 * graph size. Graphs with no nodes give zeros.
 */
export function globalMeanPool(
  x: tf.Tensor2D,
  graphIndex: Int32Array,
  numGraphs: number,
): tf.Tensor2D {
  checkPoolInput('global-mean-pool', x, graphIndex, numGraphs);
  return segmentMean(x, graphIndex, numGraphs);
}

/**
 * Global max pooling `[N, F] -> [numGraphs, F]`, elementwise per feature
 * (the max readout compared by Xu et al., 2019, "How Powerful are Graph
 * Neural Networks?"). Gradients go to the maximal nodes, split between ties;
 * graphs with no nodes give zeros.
 */
export function globalMaxPool(
  x: tf.Tensor2D,
  graphIndex: Int32Array,
  numGraphs: number,
): tf.Tensor2D {
  checkPoolInput('global-max-pool', x, graphIndex, numGraphs);
  return segmentMax(x, graphIndex, numGraphs);
}
