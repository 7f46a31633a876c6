import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from '../host/host-op.js';

/**
 * Rotary tables over the columns of a fused `[n, (H + 2·Hkv)·d]` Q/K/V
 * projection: `cos` and a signed `sin` for the Q and K heads (HF
 * `rotate_half` layout), 1 and 0 for V, so that with `swap` exchanging the
 * two halves of every head, `rope(x) = x·cos + swap(x)·sin`
 * (`rotate_half(x)·sin = [−x₂, x₁]·sin = swap(x)·[−sin, sin]`).
 * `cos`/`sin` are {@link ropeTables}' `[n, d]` tables.
 */
export function qkvRopeTables(
  cos: Float32Array,
  sin: Float32Array,
  n: number,
  d: number,
  rotated: number,
  plain: number,
): { cos: Float32Array; sin: Float32Array } {
  const W = (rotated + plain) * d;
  const half = d / 2;
  const c = new Float32Array(n * W);
  const s = new Float32Array(n * W);
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < rotated; h++) {
      const o = i * W + h * d;
      c.set(cos.subarray(i * d, (i + 1) * d), o);
      for (let e = 0; e < half; e++) {
        s[o + e] = -sin[i * d + e]!;
        s[o + half + e] = sin[i * d + half + e]!;
      }
    }
    c.fill(1, i * W + rotated * d, (i + 1) * W);
  }
  return { cos: c, sin: s };
}

/** Exchange the two halves of every `d`-wide head of `[n, w]`; a host copy on wasm/cpu. */
function swapHalves(x: tf.Tensor2D, d: number): tf.Tensor2D {
  const [n, w] = x.shape;
  const half = d / 2;
  if (!onHost()) return tf.reshape(tf.reverse(tf.reshape(x, [n * (w / d), 2, half]), 1), [n, w]);
  return runHostOp('PlexusSwapHalves', [x], [[n, w]], ([src], [out]) => {
    // Element loop: heads are short, and a subarray per half costs more than the copy.
    const a = src!;
    const b = out!;
    for (let o = 0; o < n * w; o += d)
      for (let e = 0; e < half; e++) {
        b[o + e] = a[o + half + e]!;
        b[o + half + e] = a[o + e]!;
      }
  })[0] as tf.Tensor2D;
}

/** {@link qkvRopeTables}' tables on the host and as `[n, w]` tensors. */
export interface RopeTables {
  readonly cos: tf.Tensor2D;
  readonly sin: tf.Tensor2D;
  readonly cosHost: Float32Array;
  readonly sinHost: Float32Array;
}

/**
 * Rotary embeddings ("RoFormer: Enhanced Transformer with Rotary Position
 * Embedding", Su et al., 2021) applied to the Q and K heads of a fused
 * projection in one pass, `x·cos + swap(x)·sin` with {@link qkvRopeTables}'
 * tables. The gradient is the same map transposed, `dy·cos + swap(dy·sin)`
 * (`swap` is its own transpose): four kernels each way, where rotating Q
 * and K separately through split, negate and concat ran about thirty with
 * their gradients. The backward pass uploads the tables again from the host
 * copies (the forward's tensors belong to the caller's scope).
 */
export function rotateQK(qkv: tf.Tensor2D, tables: RopeTables, d: number): tf.Tensor2D {
  const f = tf.customGrad((x) => {
    const xt = x as tf.Tensor2D;
    return {
      value: tf.tidy(() => tf.add(tf.mul(xt, tables.cos), tf.mul(swapHalves(xt, d), tables.sin))),
      gradFunc: (dy) => {
        const g = dy as tf.Tensor2D;
        const shape = g.shape;
        const sc = tf.tensor2d(tables.cosHost, shape);
        const ss = tf.tensor2d(tables.sinHost, shape);
        return tf.add(tf.mul(g, sc), swapHalves(tf.mul(g, ss) as tf.Tensor2D, d));
      },
    };
  });
  return f(qkv) as tf.Tensor2D;
}
