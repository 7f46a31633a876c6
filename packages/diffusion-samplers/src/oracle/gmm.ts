import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { Denoiser } from '../samplers/types.js';
import { PortableRng } from './portable-rng.js';

/** A diagonal Gaussian mixture in D dimensions. */
export interface GaussianMixture {
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  /** Per-component, per-dimension standard deviations. */
  readonly stds: readonly (readonly number[])[];
}

/**
 * The exact epsilon of a Gaussian mixture noised to level sigma (Karras form,
 * `xbar = x0 + sigma eps`), in float64: `eps = sigma sum_k g_k (xbar - mu_k) /
 * (v_k + sigma^2)` with posterior weights `g`. Writes `n` rows of `xbar`
 * (row-major, D columns) into `out`.
 */
export function gmmEpsilon(
  mix: GaussianMixture,
  xbar: ArrayLike<number>,
  sigma: number,
  out: Float64Array = new Float64Array(xbar.length),
): Float64Array {
  const K = mix.weights.length;
  const D = mix.means[0]!.length;
  const n = xbar.length / D;
  const s2 = sigma * sigma;
  const logW = new Float64Array(K);
  const varS = new Float64Array(K * D);
  for (let k = 0; k < K; k++) {
    let acc = Math.log(mix.weights[k]!);
    for (let d = 0; d < D; d++) {
      const v = mix.stds[k]![d]! ** 2 + s2;
      varS[k * D + d] = v;
      acc -= 0.5 * Math.log(v);
    }
    logW[k] = acc;
  }
  const logit = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let acc = logW[k]!;
      for (let d = 0; d < D; d++) {
        const diff = xbar[i * D + d]! - mix.means[k]![d]!;
        acc -= (0.5 * diff * diff) / varS[k * D + d]!;
      }
      logit[k] = acc;
      if (acc > max) max = acc;
    }
    let z = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(logit[k]! - max);
      logit[k] = e;
      z += e;
    }
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let k = 0; k < K; k++)
        acc += (logit[k]! * (xbar[i * D + d]! - mix.means[k]![d]!)) / varS[k * D + d]!;
      out[i * D + d] = (sigma * acc) / z;
    }
  }
  return out;
}

/**
 * A {@link Denoiser} for a VP epsilon model whose network is the exact mixture
 * epsilon: the input `x = alpha xbar` is read back to the host, `xbar = x /
 * alpha`, and the float64 epsilon returned as a float32 tensor. `info.sigma`
 * carries the noise level, so any grid works.
 */
export function gmmVpDenoiser(mix: GaussianMixture): Denoiser {
  return (x, _t, _cond, info) => {
    const sigma = info.sigma;
    const alpha = 1 / Math.sqrt(1 + sigma * sigma);
    const data = x.dataSync();
    const xbar = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) xbar[i] = data[i]! / alpha;
    const eps = gmmEpsilon(mix, xbar, sigma);
    return tf.tensor(Float32Array.from(eps), x.shape, 'float32');
  };
}

/** `n` exact mixture samples from a seed: n component uniforms, then n*D normals (the anchor's recipe). */
export function sampleGmm(mix: GaussianMixture, n: number, seed: number): Float64Array {
  const D = mix.means[0]!.length;
  const rng = new PortableRng(seed);
  const u = rng.uniforms(n);
  const z = rng.normals(n * D);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of mix.weights) {
    acc += w;
    cdf.push(acc);
  }
  const out = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    let k = cdf.findIndex((c) => u[i]! < c);
    if (k < 0) k = cdf.length - 1;
    for (let d = 0; d < D; d++)
      out[i * D + d] = mix.means[k]![d]! + mix.stds[k]![d]! * z[i * D + d]!;
  }
  return out;
}

/** Checks that a mixture is well formed (positive weights summing to 1, matching dims). */
export function validateMixture(mix: GaussianMixture): void {
  const K = mix.weights.length;
  const D = mix.means[0]?.length ?? 0;
  const sum = mix.weights.reduce((a, b) => a + b, 0);
  if (K === 0 || D === 0 || Math.abs(sum - 1) > 1e-9 || mix.weights.some((w) => !(w > 0)))
    throw new DiffusionSamplersError(
      'oracle',
      `mixture weights must be positive and sum to 1 (got ${sum})`,
    );
  if (mix.means.length !== K || mix.stds.length !== K)
    throw new DiffusionSamplersError('oracle', 'mixture needs one mean and one std row per weight');
}
