import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';

/**
 * Dense causal attention with tfjs ops, the reference paged attention must
 * equal: `q` `[numQueries, numHeads, headDim]` at positions
 * `queryStart..`, `k`/`v` `[numKeys, numKvHeads, headDim]` at positions
 * `0..numKeys-1`; GQA maps query head `h` to KV head `floor(h / group)`.
 * Everything intermediate is freed; only the output tensor is returned.
 */
export function denseAttention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  queryStart: number,
  scale = 1 / Math.sqrt(q.shape[2]),
): tf.Tensor3D {
  const [nq, H, d] = q.shape;
  const [nk, kvH] = k.shape;
  if (H % kvH !== 0 || k.shape[2] !== d)
    throw new PlexusKvCacheError(
      'attention',
      `q is [${q.shape}] and k [${k.shape}]; expected equal headDim and numHeads a multiple of numKvHeads`,
    );
  const group = H / kvH;
  const mask = new Float32Array(nq * nk);
  for (let i = 0; i < nq; i++)
    for (let j = queryStart + i + 1; j < nk; j++) mask[i * nk + j] = Number.NEGATIVE_INFINITY;
  const headMap = Int32Array.from({ length: H }, (_, h) => Math.floor(h / group));
  return tf.tidy(() => {
    const qh = tf.transpose(q, [1, 0, 2]); // [H, nq, d]
    const kh = tf.gather(tf.transpose(k, [1, 0, 2]), headMap); // [H, nk, d]
    const vh = tf.gather(tf.transpose(v, [1, 0, 2]), headMap);
    const logits = tf.add(
      tf.mul(tf.matMul(qh, kh, false, true), scale),
      tf.tensor2d(mask, [nq, nk]),
    );
    const out = tf.matMul(tf.softmax(logits), vh); // [H, nq, d]
    return tf.transpose(out, [1, 0, 2]) as tf.Tensor3D;
  });
}
