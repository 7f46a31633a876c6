import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from './host/host-op.js';
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
 * Copy `d`-long rows between token-major `[B·T, Hkv·rep, d]` and grouped
 * `[B·Hkv, rep·T, d]` layouts (query head `kh·rep + j` of token `t` is row
 * `j·T + t` of group `b·Hkv + kh`); `toGroups` picks the direction.
 */
function copyGroupRows(
  src: Float32Array,
  dst: Float32Array,
  [B, T, kvH, rep, d]: readonly [number, number, number, number, number],
  toGroups: boolean,
): void {
  for (let b = 0; b < B; b++)
    for (let kh = 0; kh < kvH; kh++)
      for (let j = 0; j < rep; j++)
        for (let t = 0; t < T; t++) {
          const tok = ((b * T + t) * kvH * rep + kh * rep + j) * d;
          const grp = ((b * kvH + kh) * rep * T + j * T + t) * d;
          const from = toGroups ? tok : grp;
          const to = toGroups ? grp : tok;
          for (let e = 0; e < d; e++) dst[to + e] = src[from + e]!;
        }
}

/**
 * Copy between token-major K `[B·T, Hkv, d]` and transposed groups
 * `[B·Hkv, d, T]`; `toGroups` picks the direction.
 */
function copyKeyColumns(
  src: Float32Array,
  dst: Float32Array,
  [B, T, kvH, d]: readonly [number, number, number, number],
  toGroups: boolean,
): void {
  for (let b = 0; b < B; b++)
    for (let kh = 0; kh < kvH; kh++)
      for (let t = 0; t < T; t++) {
        const tok = ((b * T + t) * kvH + kh) * d;
        const grp = (b * kvH + kh) * d * T + t;
        for (let e = 0; e < d; e++)
          if (toGroups) dst[grp + e * T] = src[tok + e]!;
          else dst[tok + e] = src[grp + e * T]!;
      }
}

/**
 * A layout permutation as one host kernel each way (its gradient is the
 * inverse permutation), or `fallback` and its autodiff off the host. On
 * wasm, tfjs' Transpose of these small 4-D permutations cost about as much
 * as the products they feed.
 */
function relayout(
  x: tf.Tensor,
  name: string,
  outShape: number[],
  copy: (src: Float32Array, dst: Float32Array, forward: boolean) => void,
  fallback: () => tf.Tensor,
): tf.Tensor {
  if (!onHost()) return fallback();
  const inShape = x.shape;
  const f = tf.customGrad((t) => ({
    value: runHostOp(name, [t as tf.Tensor], [outShape], ([a], [b]) => copy(a!, b!, true))[0]!,
    gradFunc: (dy) =>
      runHostOp(`${name}Grad`, [dy as tf.Tensor], [inShape], ([a], [b]) => copy(a!, b!, false))[0]!,
  }));
  return f(x);
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
    const groups = [batch, seq, kvH, rep, d] as const;
    const qg = relayout(
      q,
      'PlexusAttnQueryGroups',
      [G, rep * seq, d],
      (a, b, fwd) => copyGroupRows(a, b, groups, fwd),
      () =>
        tf.reshape(tf.transpose(tf.reshape(q, [batch, seq, H, d]), [0, 2, 1, 3]), [
          G,
          rep * seq,
          d,
        ]),
    ) as tf.Tensor3D;
    // K as [G, d, T]: the score product is then a plain matmul.
    const kt = relayout(
      k,
      'PlexusAttnKeyColumns',
      [G, d, seq],
      (a, b, fwd) => copyKeyColumns(a, b, [batch, seq, kvH, d], fwd),
      () =>
        tf.reshape(tf.transpose(tf.reshape(k, [batch, seq, kvH, d]), [0, 2, 3, 1]), [G, d, seq]),
    ) as tf.Tensor3D;
    const vt = relayout(
      v,
      'PlexusAttnValueGroups',
      [G, seq, d],
      (a, b, fwd) => copyGroupRows(a, b, [batch, seq, kvH, 1, d], fwd),
      () =>
        tf.reshape(tf.transpose(tf.reshape(v, [batch, seq, kvH, d]), [0, 2, 1, 3]), [G, seq, d]),
    ) as tf.Tensor3D;
    const probs = maskedSoftmax(batchMatmul(qg, kt), 1 / Math.sqrt(d), causalMask(seq, rep));
    const out = batchMatmul(probs, vt);
    return relayout(
      out,
      'PlexusAttnMergeGroups',
      [batch * seq, H * d],
      (a, b, fwd) => copyGroupRows(a, b, groups, !fwd),
      () =>
        tf.reshape(tf.transpose(tf.reshape(out, [batch, H, seq, d]), [0, 2, 1, 3]), [
          batch * seq,
          H * d,
        ]),
    ) as tf.Tensor2D;
  });
}
