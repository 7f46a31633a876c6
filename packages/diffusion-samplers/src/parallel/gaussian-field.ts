import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { PatchDenoiser } from './types.js';

/**
 * A stationary Gaussian random field on an `rows x cols` grid (one channel):
 * covariance `Sigma = C^T diag(lambda) C` with `C` the orthonormal 2-D DCT-II
 * and `lambda_{uv} = 1 / (1 + smoothness (u^2 + v^2))`. Its noised score is
 * exact at every noise level and couples every pixel with every other, so
 * it is an oracle network that needs global context.
 */
export interface GaussianField {
  readonly rows: number;
  readonly cols: number;
  /** Eigenvalues of the covariance, row-major over (u, v). */
  readonly lambda: Float64Array;
  /** Orthonormal 2-D DCT basis, `basis[k * n + p]` (k = frequency, p = pixel). */
  readonly basis: Float64Array;
}

/** Builds the field; `smoothness` > 0 (default 0.5). */
export function gaussianField(rows: number, cols: number, smoothness = 0.5): GaussianField {
  if (
    !Number.isInteger(rows) ||
    !Number.isInteger(cols) ||
    rows < 1 ||
    cols < 1 ||
    rows * cols > 4096
  )
    throw new DiffusionSamplersError(
      'parallel/gaussian-field',
      `rows and cols must be positive integers with rows * cols <= 4096, got ${rows} x ${cols}`,
    );
  const n = rows * cols;
  const dct = (len: number, k: number, i: number): number =>
    (k === 0 ? Math.sqrt(1 / len) : Math.sqrt(2 / len)) * Math.cos((Math.PI * (i + 0.5) * k) / len);
  const basis = new Float64Array(n * n);
  const lambda = new Float64Array(n);
  for (let u = 0; u < rows; u++)
    for (let v = 0; v < cols; v++) {
      const k = u * cols + v;
      lambda[k] = 1 / (1 + smoothness * (u * u + v * v));
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++)
          basis[k * n + i * cols + j] = dct(rows, u, i) * dct(cols, v, j);
    }
  return { rows, cols, lambda, basis };
}

/**
 * `M = sigma sqrt(1 + sigma^2) C^T diag(1 / (lambda + sigma^2)) C`: for VP
 * data `x = alpha x0 + sqrt(1 - alpha^2) eps` (alpha = 1/sqrt(1+sigma^2)),
 * `E[eps | x] = M x` (M is symmetric). Columns `[c0, c1)` only.
 */
export function fieldEpsilonMatrix(
  field: GaussianField,
  sigma: number,
  c0 = 0,
  c1 = field.rows * field.cols,
): Float32Array {
  const n = field.rows * field.cols;
  const w = c1 - c0;
  const out = new Float32Array(n * w);
  const scale = sigma * Math.sqrt(1 + sigma * sigma);
  const g = new Float64Array(n);
  for (let k = 0; k < n; k++) g[k] = scale / (field.lambda[k]! + sigma * sigma);
  for (let p = 0; p < n; p++)
    for (let q = c0; q < c1; q++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += field.basis[k * n + p]! * g[k]! * field.basis[k * n + q]!;
      out[p * w + (q - c0)] = acc;
    }
  return out;
}

/**
 * The field's exact epsilon as a patch network for `[batch, rows, cols, 1]`
 * latents: the full (displaced) input comes from `ctx.exchange('x', ...)`,
 * then this patch's pixels are `x_full M[:, patch]`. It reads the noise level
 * from `info.sigma`, so use it with a VP model (`createVpModel`).
 */
export function gaussianFieldDenoiser(field: GaussianField): PatchDenoiser {
  const { rows, cols } = field;
  const n = rows * cols;
  return async (x, _t, _cond, info, ctx) => {
    const batch = x.shape[0]!;
    const full = await ctx.exchange('x', x);
    const c0 = ctx.rowStart * cols;
    const c1 = ctx.rowEnd * cols;
    const m = fieldEpsilonMatrix(field, info.sigma, c0, c1);
    const out = tf.tidy(() => {
      const mt = tf.tensor2d(m, [n, c1 - c0]);
      return tf.reshape(tf.matMul(tf.reshape(full, [batch, n]), mt), x.shape);
    });
    full.dispose();
    return out;
  };
}
