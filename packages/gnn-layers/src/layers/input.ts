import type { CsrMatrix } from '@plexus/tensor';
import { spmm, tallMatMul } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sparse node features (e.g. bag-of-words) as a CSR matrix `[N, F]` whose
 * values are a tensor, so dropout can act on the stored values only, as
 * Kipf & Welling's GCN does, and `X·W` is an spmm instead of a dense product
 * over mostly zeros.
 */
export interface SparseRows {
  readonly kind: 'sparse-rows';
  readonly matrix: CsrMatrix;
  readonly values: tf.Tensor1D;
}

/** Node features a layer accepts: dense `[N, F]` or {@link SparseRows}. */
export type LayerInput = tf.Tensor2D | SparseRows;

/** True when `x` is {@link SparseRows}. */
export function isSparseRows(x: LayerInput): x is SparseRows {
  return (x as SparseRows).kind === 'sparse-rows';
}

/** Shape `[numNodes, numFeatures]` of an input. */
export function inputShape(x: LayerInput): [number, number] {
  return isSparseRows(x) ? [x.matrix.numRows, x.matrix.numCols] : [x.shape[0], x.shape[1]];
}

/** `x · w` for either kind of input; gradients reach `w` (and dense `x`). */
export function project(x: LayerInput, w: tf.Variable): tf.Tensor2D {
  return isSparseRows(x)
    ? // Feature values are data, not parameters: no gradient flows into them.
      spmm(x.matrix, w as tf.Tensor2D, { weights: x.values, weightsRequireGrad: false })
    : // Split-K weight gradient on webgpu for tall inputs (see tallMatMul).
      tallMatMul(x, w as tf.Tensor2D);
}

/** Inverted dropout on a dense input, or on the stored values of a sparse one. */
export function dropoutInput(x: LayerInput, rate: number, seed: number): LayerInput {
  if (rate <= 0) return x;
  if (isSparseRows(x))
    return { ...x, values: tf.dropout(x.values, rate, undefined, seed) as tf.Tensor1D };
  return tf.dropout(x, rate, undefined, seed) as tf.Tensor2D;
}
