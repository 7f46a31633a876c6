import * as tf from '@tensorflow/tfjs-core';

/** Series terms needed so `e^-t I_k(t)` is converged for every `t <= maxTime`. */
export function besselSeriesTerms(maxTime: number): number {
  // The terms of I_k's power series peak near m = t/2 and fall off like a
  // Gaussian of width ~sqrt(t); 6 widths past the peak leave < 1e-8 behind.
  return Math.ceil(maxTime / 2 + 6 * Math.sqrt(maxTime) + 12);
}

function logFactorials(upTo: number): Float64Array {
  const out = new Float64Array(upTo + 1);
  for (let i = 1; i <= upTo; i++) out[i] = out[i - 1]! + Math.log(i);
  return out;
}

/**
 * Chebyshev coefficients of the heat kernel as a differentiable function of
 * the diffusion times: `out[k][c] = w_k e^{-t_c} I_k(t_c)` for `k = 0..order`
 * (`w_0 = 1`, `w_k = 2`), with `I_k` the modified Bessel function of the first
 * kind, so that `exp(-t (I - Â)) = Σ_k out[k] T_k(Â)` (`T_k` Chebyshev
 * polynomials; from `e^{t x} = I_0(t) + 2 Σ_k I_k(t) T_k(x)`).
 *
 * Each series term `(t/2)^{2m+k} / (m! (m+k)!) e^{-t}` is evaluated in the log
 * domain: the raw powers overflow float32 long before `t = 20`, while every
 * scaled term is at most 1. Gradients reach `t` through `log t` and `-t`.
 * `t` must be `> 0` (callers clamp it) and at most `maxTime`. Intermediates
 * are left to the caller's `tf.tidy`, as in the layers.
 */
export function heatChebyshevCoefficients(
  times: tf.Tensor1D,
  order: number,
  maxTime: number,
): tf.Tensor2D {
  const terms = besselSeriesTerms(maxTime);
  const lf = logFactorials(order + terms);
  const powers = new Float32Array((order + 1) * terms);
  const logDenominators = new Float32Array((order + 1) * terms);
  for (let k = 0; k <= order; k++) {
    for (let m = 0; m < terms; m++) {
      powers[k * terms + m] = 2 * m + k;
      logDenominators[k * terms + m] = lf[m]! + lf[m + k]!;
    }
  }
  const c = times.shape[0];
  const logHalfT = tf.reshape(tf.log(tf.div(times, 2)), [1, 1, c]);
  const t3 = tf.reshape(times, [1, 1, c]);
  const p = tf.tensor3d(powers, [order + 1, terms, 1]);
  const d = tf.tensor3d(logDenominators, [order + 1, terms, 1]);
  const logTerms = tf.sub(tf.sub(tf.mul(p, logHalfT), d), t3);
  const scaled = tf.sum(tf.exp(logTerms), 1) as tf.Tensor2D;
  const weights = tf.tensor2d(
    Float32Array.from({ length: order + 1 }, (_, k) => (k === 0 ? 1 : 2)),
    [order + 1, 1],
  );
  return tf.mul(scaled, weights) as tf.Tensor2D;
}
