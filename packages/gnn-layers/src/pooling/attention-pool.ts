import { SeededRandom, segmentSoftmax, segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkPositive } from '../layers/check-input.js';
import { checkPoolInput } from './global-pool.js';

/** Options of {@link createAttentionPool}. */
export interface AttentionPoolOptions {
  readonly seed?: number;
}

/**
 * Gated attention readout of Li et al. ("Gated Graph Sequence Neural
 * Networks", ICLR 2016, graph-level output), in the softmax form PyG calls
 * `GlobalAttention`: `h_G = Σ_{v ∈ G} softmax_{v ∈ G}(x_v · w + b) · x_v`.
 */
export interface AttentionPool {
  readonly kind: 'attention-pool';
  readonly inFeatures: number;
  /** Gate weights `[inFeatures, 1]` and bias `[1]`, for an optimiser. */
  readonly variables: readonly tf.Variable[];
  /** `[N, inFeatures]` node features to `[numGraphs, inFeatures]`; empty graphs give zeros. */
  apply(x: tf.Tensor2D, graphIndex: Int32Array, numGraphs: number): tf.Tensor2D;
  /** Per-node attention weights `[N]` (each graph's sum to 1), for inspection. */
  weights(x: tf.Tensor2D, graphIndex: Int32Array, numGraphs: number): tf.Tensor1D;
  dispose(): void;
}

/**
 * A gated attention readout ("Gated Graph Sequence Neural Networks", Li et
 * al., 2016): a learned scalar score per node, normalised by a softmax over
 * the nodes of its own graph, weights a sum of node features. Unlike a mean,
 * the model chooses which nodes matter; unlike a max, every node gets gradient.
 */
export function createAttentionPool(
  inFeatures: number,
  options: AttentionPoolOptions = {},
): AttentionPool {
  checkPositive('attention-pool', 'inFeatures', inFeatures);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('attention_pool');
  const w = glorotUniform(rng, inFeatures, 1, `${name}_w`);
  const b = zerosVariable(1, `${name}_b`);
  const weights = (x: tf.Tensor2D, graphIndex: Int32Array, numGraphs: number): tf.Tensor1D =>
    tf.tidy(() => {
      checkPoolInput('attention-pool', x, graphIndex, numGraphs);
      if (x.shape[1] !== inFeatures) {
        throw new GnnLayersError(
          'attention-pool',
          `features must be [numNodes, ${inFeatures}] (numNodes, inFeatures), got [${x.shape.join(', ')}]`,
        );
      }
      // The bias cancels in a softmax; it is kept so the gate matches the paper's
      // affine `i(h_v)` and an optimiser sees the usual parameters.
      const score = tf.reshape(tf.add(tf.matMul(x, w as tf.Tensor2D), b), [x.shape[0]]);
      return segmentSoftmax(score as tf.Tensor1D, graphIndex, numGraphs);
    });
  return {
    kind: 'attention-pool',
    inFeatures,
    variables: [w, b],
    weights,
    apply(x, graphIndex, numGraphs) {
      return tf.tidy(() => {
        const alpha = weights(x, graphIndex, numGraphs);
        return segmentSum(tf.mul(x, tf.expandDims(alpha, 1)) as tf.Tensor2D, graphIndex, numGraphs);
      });
    },
    dispose() {
      w.dispose();
      b.dispose();
    },
  };
}
