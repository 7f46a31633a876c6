import * as tf from '@tensorflow/tfjs-core';

/**
 * RMSNorm over the last axis, `x / sqrt(mean(x²) + eps) · weight`
 * ("Root Mean Square Layer Normalization", Zhang & Sennrich, 2019), with a
 * hand-written gradient: with `x̂ = x·r`, `r = 1/rms`, `g = dy·w`,
 * `dx = r·(g − x̂·mean(g·x̂))` and `dw = Σ_rows dy·x̂`. Seven kernels and
 * two saved tensors (`x̂`, `r`) where autodiff of the forward chain ran
 * about fourteen and cloned eight saved inputs. A weight that is a
 * `tf.Variable` is read directly in the backward pass rather than cloned.
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor, eps: number): tf.Tensor2D {
  const isVar = weight instanceof tf.Variable;
  const f = tf.customGrad((xt, wt, save) => {
    const r = tf.tidy(() => tf.rsqrt(tf.add(tf.mean(tf.square(xt as tf.Tensor), -1, true), eps)));
    const xhat = tf.mul(xt as tf.Tensor, r);
    (save as tf.GradSaveFunc)(isVar ? [xhat, r] : [xhat, r, wt as tf.Tensor]);
    return {
      value: tf.mul(xhat, wt as tf.Tensor),
      gradFunc: (dy, saved) => {
        const [sx, sr, sw] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        const d = dy as tf.Tensor;
        const g = tf.mul(d, sw ?? weight);
        const dot = tf.mean(tf.mul(g, sx), -1, true);
        const dx = tf.mul(sr, tf.sub(g, tf.mul(sx, dot)));
        const dw = tf.reshape(tf.sum(tf.mul(d, sx), 0), weight.shape);
        return [dx, dw];
      },
    };
  });
  return f(x, weight) as tf.Tensor2D;
}
