import * as tf from '@tensorflow/tfjs-core';

/**
 * Additive causal mask of a chunk of `chunk` queries at the end of `context`
 * keys, rows ordered (group, query) as {@link denseChunkAttention} wants;
 * `undefined` for decode. Made once per configuration, outside the timing.
 */
export function chunkMask(group: number, chunk: number, context: number): tf.Tensor2D | undefined {
  if (chunk === 1) return undefined;
  const mask = new Float32Array(group * chunk * context);
  for (let g = 0; g < group; g++)
    for (let c = 0; c < chunk; c++)
      for (let t = context - chunk + c + 1; t < context; t++)
        mask[(g * chunk + c) * context + t] = -1e30;
  return tf.tensor2d(mask, [group * chunk, context]);
}

/**
 * Dense GQA attention with tfjs ops, the baseline of `gpu-decode.ts`: each
 * sequence's K/V contiguous as `[batch, numKvHeads, context, headDim]` (the
 * layout batched matMul wants, prepared outside the timed region). `q` is
 * `[batch * chunk, numHeads, headDim]` for a chunk of `chunk` queries at the
 * end of each context (decode: `chunk = 1`), causal inside the chunk
 * through `mask` (from {@link chunkMask}).
 */
export function denseChunkAttention(
  q: tf.Tensor3D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  chunk: number,
  mask: tf.Tensor2D | undefined,
): tf.Tensor3D {
  const [batch, kvH, , d] = k.shape;
  const H = q.shape[1];
  const group = H / kvH;
  return tf.tidy(() => {
    // [batch, chunk, kvH, group, d] -> [batch, kvH, group * chunk, d]
    const qg = tf.reshape(
      tf.transpose(tf.reshape(q, [batch, chunk, kvH, group, d]), [0, 2, 3, 1, 4]),
      [batch, kvH, group * chunk, d],
    );
    let logits = tf.mul(tf.matMul(qg, k, false, true), 1 / Math.sqrt(d));
    if (mask !== undefined) logits = tf.add(logits, mask);
    const out = tf.matMul(tf.softmax(logits), v); // [batch, kvH, group * chunk, d]
    return tf.reshape(
      tf.transpose(tf.reshape(out, [batch, kvH, group, chunk, d]), [0, 3, 1, 2, 4]),
      [batch * chunk, H, d],
    ) as tf.Tensor3D;
  });
}
