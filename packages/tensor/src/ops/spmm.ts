import * as tf from '@tensorflow/tfjs-core';
import type { CsrMatrix } from '../csr/csr-matrix.js';
import { PlexusTensorError } from '../errors.js';
import { checkTensor, shapeText } from '../internal/validate.js';
import { SDDMM, SPMM } from '../kernels/names.js';
import { hasPlexusKernel, runPlexusKernel } from '../kernels/register.js';

/** Options of {@link spmm}. */
export interface SpmmOptions {
  /**
   * Edge weights as a tensor (`float32[nnz]`, in the matrix's entry order),
   * overriding the matrix's stored values; gradients flow into it.
   */
  readonly weights?: tf.Tensor1D;
  /**
   * Whether gradients flow into `weights` (default true). Pass false for
   * constant weights, e.g. feature values of a sparse input: the backward
   * pass then skips the SDDMM that a weight gradient costs.
   */
  readonly weightsRequireGrad?: boolean;
}

/**
 * Sparse (CSR) times dense: `out[r] = sum over entries e of row r of w_e * x[col_e]`,
 * the message-passing primitive (sum aggregation of neighbour features).
 * Never materialises the `[nnz, F]` matrix of gathered rows. Differentiable in
 * `x` (an spmm with the transpose) and in `options.weights` (an SDDMM).
 */
export function spmm(a: CsrMatrix, x: tf.Tensor2D, options: SpmmOptions = {}): tf.Tensor2D {
  checkTensor('spmm', 'x', x, 'float32', [2]);
  if (x.shape[0] !== a.numCols) {
    throw new PlexusTensorError(
      'spmm',
      `x must have one row per matrix column: matrix is [${a.numRows}, ${a.numCols}], x is ${shapeText(x.shape)}`,
    );
  }
  const { weights } = options;
  if (weights !== undefined) {
    checkTensor('spmm', 'weights', weights, 'float32', [1]);
    if (weights.shape[0] !== a.nnz) {
      throw new PlexusTensorError(
        'spmm',
        `weights must have one entry per stored entry (${a.nnz}), got ${shapeText(weights.shape)}`,
      );
    }
    if (options.weightsRequireGrad === false) {
      const constant = tf.customGrad((xIn, save) => {
        (save as tf.GradSaveFunc)([weights]);
        return {
          value: spmmForward(a, xIn as tf.Tensor2D, weights),
          gradFunc: (dy, [ws]) => spmmTransposed(a, dy as tf.Tensor2D, ws as tf.Tensor1D),
        };
      });
      return constant(x) as tf.Tensor2D;
    }
    const f = tf.customGrad((xIn, wIn, save) => {
      (save as tf.GradSaveFunc)([xIn as tf.Tensor2D, wIn as tf.Tensor1D]);
      return {
        value: spmmForward(a, xIn as tf.Tensor2D, wIn as tf.Tensor1D),
        gradFunc: (dy, saved) => {
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor1D];
          return [spmmTransposed(a, dy as tf.Tensor2D, ws), sddmmForward(a, dy as tf.Tensor2D, xs)];
        },
      };
    });
    return f(x, weights) as tf.Tensor2D;
  }
  const f = tf.customGrad((xIn) => ({
    value: spmmForward(a, xIn as tf.Tensor2D, undefined),
    gradFunc: (dy) => spmmTransposed(a, dy as tf.Tensor2D, undefined),
  }));
  return f(x) as tf.Tensor2D;
}

/** Forward product with explicit weights, or the matrix's own values when `weights` is undefined. */
export function spmmForward(
  a: CsrMatrix,
  x: tf.Tensor2D,
  weights: tf.Tensor1D | undefined,
): tf.Tensor2D {
  const t = a.tensors.get();
  const w = weights ?? t.values;
  if (hasPlexusKernel(SPMM)) {
    const inputs: Record<string, tf.Tensor> = { indptr: t.indptr, indices: t.indices, x };
    if (w !== undefined) inputs['weights'] = w;
    return runPlexusKernel<tf.Tensor2D>(SPMM, inputs, { numRows: a.numRows });
  }
  return spmmComposite(a, x, w);
}

/**
 * spmm from native tfjs ops (gather + unsortedSegmentSum), for backends
 * without a Plexus kernel such as tfjs-node. Materialises `[nnz, F]`.
 */
export function spmmComposite(
  a: CsrMatrix,
  x: tf.Tensor2D,
  w: tf.Tensor1D | undefined,
): tf.Tensor2D {
  // tfjs' unsortedSegmentSum rejects zero segments and gather rejects empty indices on some backends.
  if (a.numRows === 0 || a.nnz === 0) return tf.zeros([a.numRows, x.shape[1]]);
  return tf.tidy(() => {
    const t = a.tensors.get();
    const rows = a.tensors.getInt32('rowIds', () => a.rowIds());
    let msgs = tf.gather(x, t.indices);
    if (w !== undefined) msgs = tf.mul(msgs, tf.expandDims(w, 1));
    return tf.unsortedSegmentSum(msgs, rows, a.numRows) as tf.Tensor2D;
  });
}

/** `Aᵀ · dy`, carrying weights over to the transpose's entry order. */
function spmmTransposed(
  a: CsrMatrix,
  dy: tf.Tensor2D,
  weights: tf.Tensor1D | undefined,
): tf.Tensor2D {
  const { matrix } = a.transpose();
  if (weights === undefined) return spmmForward(matrix, dy, undefined);
  return tf.tidy(() => {
    const perm = a.tensors.getInt32('transposePerm', () => a.transpose().perm);
    return spmmForward(matrix, dy, tf.gather(weights, perm));
  });
}

/** `out[e] = dot(left[row_e], right[col_e])` without gradient bookkeeping. */
export function sddmmForward(a: CsrMatrix, left: tf.Tensor2D, right: tf.Tensor2D): tf.Tensor1D {
  const t = a.tensors.get();
  if (hasPlexusKernel(SDDMM)) {
    return runPlexusKernel<tf.Tensor1D>(SDDMM, {
      indptr: t.indptr,
      indices: t.indices,
      a: left,
      b: right,
    });
  }
  return tf.tidy(() => {
    const rows = a.tensors.getInt32('rowIds', () => a.rowIds());
    return tf.sum(tf.mul(tf.gather(left, rows), tf.gather(right, t.indices)), 1) as tf.Tensor1D;
  });
}
