import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkTensor } from '../internal/validate.js';
import { TOP_K } from '../kernels/names.js';
import { hasPlexusKernel, runPlexusKernel } from '../kernels/register.js';

/** Result of {@link topK}. */
export interface TopKResult<T extends tf.Tensor> {
  /** The k largest values of each row, in descending order. */
  readonly values: T;
  /** Their positions along the last axis (int32). */
  readonly indices: T;
}

/**
 * The `k` largest entries along the last axis, with their indices, as a
 * Mixture-of-Experts router needs. Ties keep the lower index first. The
 * values are differentiable: the gradient is scattered back to the chosen
 * positions.
 */
export function topK<T extends tf.Tensor>(x: T, k: number): TopKResult<T> {
  checkTensor('topK', 'x', x, 'float32', [1, 2, 3, 4, 5, 6]);
  const n = x.shape[x.rank - 1]!;
  checkInteger('topK', 'k', k, 0, n);
  return tf.tidy(() => {
    const [vals, idx] = hasPlexusKernel(TOP_K)
      ? runPlexusKernel<tf.Tensor[]>(TOP_K, { x }, { k })
      : nativeTopK(x, k);
    const shape = x.shape;
    const values = tf.customGrad((_input, save) => {
      (save as tf.GradSaveFunc)([idx!]);
      return {
        value: tf.clone(vals!),
        gradFunc: (dy, [savedIdx]) => scatterLastAxis(dy, savedIdx!, n, shape),
      };
    })(x);
    return { values: values as T, indices: idx as T };
  });
}

function nativeTopK(x: tf.Tensor, k: number): tf.Tensor[] {
  const { values, indices } = tf.topk(x, k, true);
  return [values, indices];
}

/** `dx[..., idx[..., j]] += dy[..., j]`, through a one-hot product (k and n are small for routers). */
function scatterLastAxis(dy: tf.Tensor, idx: tf.Tensor, n: number, shape: number[]): tf.Tensor {
  const k = idx.shape[idx.rank - 1]!;
  const rows = k === 0 ? 0 : idx.size / k;
  const oneHot = tf.oneHot(tf.reshape(idx, [rows * k]), n);
  const weighted = tf.mul(oneHot, tf.reshape(dy, [rows * k, 1]));
  return tf.reshape(tf.sum(tf.reshape(weighted, [rows, k, n]), 1), shape);
}
