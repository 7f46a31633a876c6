import * as tf from '@tensorflow/tfjs-core';
import { batchMatmul } from './ops.js';

const MASKED = -1e9;

/**
 * Additive causal mask `[rep·T, T]` for queries laid out as `rep` stacked
 * copies of positions `0..T-1` (the query heads that share one KV head).
 */
function causalMask(T: number, rep: number): tf.Tensor2D {
  const key = `${T}x${rep}`;
  let m = masks.get(key);
  if (!m) {
    m = new Float32Array(rep * T * T);
    for (let r = 0; r < rep; r++)
      for (let i = 0; i < T; i++) m.fill(MASKED, (r * T + i) * T + i + 1, (r * T + i + 1) * T);
    if (masks.size > 16) masks.clear();
    masks.set(key, m);
  }
  return tf.tensor2d(m, [rep * T, T]);
}

const masks = new Map<string, Float32Array>();

/**
 * `softmax(scores·scale + mask)` over the last axis with a hand-written
 * gradient `scale·p ⊙ (dy − Σ dy ⊙ p)` that keeps only `p`: autodiff of the
 * scale, the mask addition and the softmax cloned the `[G, rep·T, T]` scores
 * four times for gradients that need none of them.
 */
function maskedSoftmax(scores: tf.Tensor3D, scale: number, mask: tf.Tensor2D): tf.Tensor3D {
  const f = tf.customGrad((s, save) => {
    const p = tf.tidy(() => tf.softmax(tf.add(tf.mul(s as tf.Tensor, scale), mask)));
    (save as tf.GradSaveFunc)([p]);
    return {
      value: p,
      gradFunc: (dy, saved) => {
        const sp = saved[0]!;
        const d = dy as tf.Tensor;
        return tf.mul(tf.mul(sp, tf.sub(d, tf.sum(tf.mul(d, sp), -1, true))), scale);
      },
    };
  });
  return f(scores) as tf.Tensor3D;
}

/**
 * Causal grouped-query attention over full sequences ("GQA: Training
 * Generalized Multi-Query Transformer Models from Multi-Head Checkpoints",
 * Ainslie et al., 2023). `q` is `[B·T, H, d]`, `k` and `v` `[B·T, Hkv, d]`
 * (token-major, rotary already applied); query head `h` reads KV head
 * `floor(h / (H / Hkv))`, as Hugging Face's `repeat_kv`. Rather than copying
 * K and V `H / Hkv` times, the query heads of a group are stacked along the
 * query axis, so one matmul per (sequence, KV head) serves the group. Returns
 * `[B·T, H·d]`.
 */
export function causalAttention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  batch: number,
  seq: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [, H, d] = q.shape;
    const kvH = k.shape[1];
    const rep = H / kvH;
    const G = batch * kvH;
    const qg = tf.reshape(tf.transpose(tf.reshape(q, [batch, seq, H, d]), [0, 2, 1, 3]), [
      G,
      rep * seq,
      d,
    ]) as tf.Tensor3D;
    // K as [G, d, T]: the score product is then a plain matmul.
    const kt = tf.reshape(tf.transpose(tf.reshape(k, [batch, seq, kvH, d]), [0, 2, 3, 1]), [
      G,
      d,
      seq,
    ]) as tf.Tensor3D;
    const vt = tf.reshape(tf.transpose(tf.reshape(v, [batch, seq, kvH, d]), [0, 2, 1, 3]), [
      G,
      seq,
      d,
    ]) as tf.Tensor3D;
    const probs = maskedSoftmax(batchMatmul(qg, kt), 1 / Math.sqrt(d), causalMask(seq, rep));
    const out = batchMatmul(probs, vt);
    return tf.reshape(tf.transpose(tf.reshape(out, [batch, H, seq, d]), [0, 2, 1, 3]), [
      batch * seq,
      H * d,
    ]);
  });
}
