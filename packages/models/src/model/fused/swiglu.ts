import * as tf from '@tensorflow/tfjs-core';

/**
 * The SwiGLU gate `silu(g) ⊙ u` of the gate and up projections `[n, I]`
 * ("GLU Variants Improve Transformer", Shazeer, 2020), with a hand-written
 * gradient: `du = dy·silu(g)`, `dg = dy·u·(σ + silu·(1 − σ))`. Autodiff of
 * sigmoid and two products cloned five saved tensors. Taking `g` and `u`
 * from two products rather than one `[n, 2I]` product saves splitting it
 * and joining its gradient (two copies of the widest activation each way):
 * with `@plexus/tensor`'s wasm GEMM two `[n, in] × [in, I]` products cost no
 * more than one `[n, in] × [in, 2I]`.
 */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((g, u, save) => {
    (save as tf.GradSaveFunc)([g as tf.Tensor, u as tf.Tensor]);
    return {
      value: tf.tidy(() =>
        tf.mul(tf.mul(g as tf.Tensor, tf.sigmoid(g as tf.Tensor)), u as tf.Tensor),
      ),
      gradFunc: (dy, saved) => {
        const [sg, su] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        const s = tf.sigmoid(sg);
        const silu = tf.mul(sg, s);
        const du = tf.mul(d, silu);
        const dg = tf.mul(tf.mul(d, su), tf.add(s, tf.sub(silu, tf.mul(silu, s))));
        return [dg, du];
      },
    };
  });
  return f(gate, up) as tf.Tensor2D;
}
