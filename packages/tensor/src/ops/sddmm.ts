import * as tf from '@tensorflow/tfjs-core';
import type { CsrMatrix } from '../csr/csr-matrix.js';
import { PlexusTensorError } from '../errors.js';
import { checkTensor, shapeText } from '../internal/validate.js';
import { sddmmForward, spmm } from './spmm.js';

/**
 * Sampled dense-dense product over the matrix's sparsity pattern:
 * `out[e] = dot(left[row_e], right[col_e])` for each stored entry `e`, the
 * score of dot-product attention on a graph's edges. Differentiable in both
 * inputs (each gradient is an spmm weighted by the incoming gradient).
 */
export function sddmm(a: CsrMatrix, left: tf.Tensor2D, right: tf.Tensor2D): tf.Tensor1D {
  checkTensor('sddmm', 'left', left, 'float32', [2]);
  checkTensor('sddmm', 'right', right, 'float32', [2]);
  if (
    left.shape[0] !== a.numRows ||
    right.shape[0] !== a.numCols ||
    left.shape[1] !== right.shape[1]
  ) {
    throw new PlexusTensorError(
      'sddmm',
      `expected left [${a.numRows}, F] and right [${a.numCols}, F] for a [${a.numRows}, ${a.numCols}] matrix, got ${shapeText(left.shape)} and ${shapeText(right.shape)}`,
    );
  }
  const f = tf.customGrad((l, r, save) => {
    (save as tf.GradSaveFunc)([l as tf.Tensor2D, r as tf.Tensor2D]);
    return {
      value: sddmmForward(a, l as tf.Tensor2D, r as tf.Tensor2D),
      gradFunc: (dy, saved) => {
        const [ls, rs] = saved as [tf.Tensor2D, tf.Tensor2D];
        const w = dy as tf.Tensor1D;
        const gl = spmm(a, rs, { weights: w });
        const t = a.transpose();
        const gr = tf.tidy(() => {
          const perm = a.tensors.getInt32('transposePerm', () => t.perm);
          return spmm(t.matrix, ls, { weights: tf.gather(w, perm) });
        });
        return [gl, gr];
      },
    };
  });
  return f(left, right) as tf.Tensor1D;
}
