import type { CsrMatrix } from '@plexus/tensor';
import { spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `Σ_k coeffs[k] ⊙ T_k(Â) z` by the three-term Chebyshev recurrence
 * `T_{k+1} z = 2 Â T_k z - T_{k-1} z`: `order` sparse products and no dense
 * `[N, N]` matrix. `coeffs` is `[order + 1, C]`, one coefficient per
 * polynomial and channel, so every channel gets its own spectral filter
 * (its own diffusion time for the heat kernel). Exact for any matrix; the
 * Chebyshev basis keeps the recurrence bounded when Â's spectrum lies in
 * [-1, 1], as it does for the symmetric GCN normalisation.
 */
export function chebyshevFilter(a: CsrMatrix, z: tf.Tensor2D, coeffs: tf.Tensor2D): tf.Tensor2D {
  const order = coeffs.shape[0] - 1;
  const c = (k: number): tf.Tensor => tf.slice(coeffs, [k, 0], [1, -1]);
  let prev = z;
  let acc = tf.mul(c(0), z);
  if (order === 0) return acc as tf.Tensor2D;
  let cur = spmm(a, z);
  acc = tf.add(acc, tf.mul(c(1), cur));
  for (let k = 2; k <= order; k++) {
    const next = tf.sub(tf.mul(spmm(a, cur), 2), prev) as tf.Tensor2D;
    prev = cur;
    cur = next;
    acc = tf.add(acc, tf.mul(c(k), cur));
  }
  return acc as tf.Tensor2D;
}
