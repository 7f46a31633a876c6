import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from '../host/host-op.js';

/** The two `[n, I]` halves of a `[n, 2I]` tensor; one host copy on wasm/cpu. */
function halves(x: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const [n, w] = x.shape;
  const I = w / 2;
  if (!onHost()) return tf.split(x, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
  return runHostOp(
    'PlexusSplitHalves',
    [x],
    [
      [n, I],
      [n, I],
    ],
    ([src], [a, b]) => {
      for (let r = 0; r < n; r++) {
        a!.set(src!.subarray(r * w, r * w + I), r * I);
        b!.set(src!.subarray(r * w + I, (r + 1) * w), r * I);
      }
    },
  ) as [tf.Tensor2D, tf.Tensor2D];
}

/** `[a, b]` side by side, `[n, I]` × 2 → `[n, 2I]`; one host copy on wasm/cpu. */
function joinHalves(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [n, I] = a.shape;
  if (!onHost()) return tf.concat([a, b], 1);
  return runHostOp('PlexusJoinHalves', [a, b], [[n, 2 * I]], ([av, bv], [out]) => {
    for (let r = 0; r < n; r++) {
      out!.set(av!.subarray(r * I, (r + 1) * I), 2 * r * I);
      out!.set(bv!.subarray(r * I, (r + 1) * I), (2 * r + 1) * I);
    }
  })[0] as tf.Tensor2D;
}

/**
 * The SwiGLU gate of a `[n, 2I]` gate-and-up projection: `silu(g) ⊙ u` for
 * `g = gu[:, :I]`, `u = gu[:, I:]` ("GLU Variants Improve Transformer",
 * Shazeer, 2020), with a hand-written gradient written straight into the
 * `[n, 2I]` layout: `du = dy·silu(g)`, `dg = dy·u·(σ + silu·(1 − σ))`.
 * Autodiff of split, sigmoid and two products cloned five saved tensors and
 * padded each half's gradient back to full width before adding them.
 */
export function swiglu(gu: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((t, save) => {
    const [g, u] = halves(t as tf.Tensor2D);
    (save as tf.GradSaveFunc)([g, u]);
    return {
      value: tf.tidy(() => tf.mul(tf.mul(g, tf.sigmoid(g)), u)),
      gradFunc: (dy, saved) => {
        const [sg, su] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        const s = tf.sigmoid(sg);
        const silu = tf.mul(sg, s);
        const du = tf.mul(d, silu);
        const dg = tf.mul(tf.mul(d, su), tf.add(s, tf.sub(silu, tf.mul(silu, s))));
        return joinHalves(dg as tf.Tensor2D, du as tf.Tensor2D);
      },
    };
  });
  return f(gu) as tf.Tensor2D;
}
