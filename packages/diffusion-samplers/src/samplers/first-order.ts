import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { defineSampler } from './run.js';
import type { SamplerV1 } from './types.js';

/** Settings of {@link createDdim}. */
export interface DdimSettings {
  /** 0 = deterministic DDIM, 1 = DDPM posterior variance (default 0). */
  eta?: number;
}

/**
 * DDIM ("Denoising Diffusion Implicit Models", 2021), in the VP form of eq. 12:
 * `x' = sqrt(a') x0 + sqrt(1 - a' - s_eta^2) eps + s_eta z` with
 * `s_eta = eta sqrt((1-a')/(1-a)) sqrt(1 - a/a')`, evaluated in Karras form.
 * 1 NFE per step; eta = 0 is the Euler step of the probability-flow ODE.
 */
export function createDdim(settings: DdimSettings = {}): SamplerV1 {
  const eta = settings.eta ?? 0;
  if (!(eta >= 0 && Number.isFinite(eta)))
    throw new DiffusionSamplersError('ddim', `eta must be a finite number >= 0, got ${eta}`);
  return defineSampler({
    name: 'ddim',
    nfePerStep: 1,
    stochastic: eta > 0,
    nfe: (steps) => steps,
    async run(run, x) {
      for (let i = 0; i < run.steps; i++) {
        const s = run.sigmas[i]!;
        const s1 = run.sigmas[i + 1]!;
        const d = await run.denoised(x, i);
        // In xbar, s_eta^2 / a' = eta^2 s1^2 (s^2 - s1^2) / s^2 (see docs).
        const up = Math.min(s1, (eta * s1 * Math.sqrt(s * s - s1 * s1)) / s);
        const dir = Math.sqrt(Math.max(s1 * s1 - up * up, 0));
        const z = up > 0 ? run.noise(i) : undefined;
        const next = tf.tidy(() => {
          const eps = tf.div(tf.sub(x, d), s);
          const det = tf.add(d, tf.mul(eps, dir));
          return z === undefined ? det : tf.add(det, tf.mul(z, up));
        });
        z?.dispose();
        d.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      return x;
    },
  });
}

/** Settings of {@link createDdpm}. */
export interface DdpmSettings {
  /** Posterior variance `beta_tilde` (`fixed_small`, default) or `beta` (`fixed_large`). */
  varianceType?: 'fixed_small' | 'fixed_large';
}

/**
 * DDPM ancestral sampling ("Denoising Diffusion Probabilistic Models", 2020,
 * Algorithm 2, with diffusers' step skipping): the posterior
 * `q(x_{t'} | x_t, x0)` mean plus fresh noise. 1 NFE per step.
 */
export function createDdpm(settings: DdpmSettings = {}): SamplerV1 {
  const variance = settings.varianceType ?? 'fixed_small';
  if (variance !== 'fixed_small' && variance !== 'fixed_large')
    throw new DiffusionSamplersError(
      'ddpm',
      `varianceType must be fixed_small or fixed_large, got ${String(variance)}`,
    );
  return defineSampler({
    name: 'ddpm',
    nfePerStep: 1,
    stochastic: true,
    nfe: (steps) => steps,
    async run(run, x) {
      for (let i = 0; i < run.steps; i++) {
        const s = run.sigmas[i]!;
        const s1 = run.sigmas[i + 1]!;
        const a = 1 / (1 + s * s);
        const aPrev = 1 / (1 + s1 * s1);
        const beta = 1 - a / aPrev;
        // Posterior mean coefficients on x0 and x_t (Ho et al. eq. 7), then / sqrt(a').
        const c0 = (Math.sqrt(aPrev) * beta) / (1 - a);
        const ct = (Math.sqrt(1 - beta) * (1 - aPrev)) / (1 - a);
        const varT = variance === 'fixed_small' ? ((1 - aPrev) / (1 - a)) * beta : beta;
        const std = s1 === 0 ? 0 : Math.sqrt(varT);
        const inv = 1 / Math.sqrt(aPrev);
        const d = await run.denoised(x, i);
        const z = std > 0 ? run.noise(i) : undefined;
        const next = tf.tidy(() => {
          const mean = tf.add(tf.mul(d, c0 * inv), tf.mul(x, ct * Math.sqrt(a) * inv));
          return z === undefined ? mean : tf.add(mean, tf.mul(z, std * inv));
        });
        z?.dispose();
        d.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      return x;
    },
  });
}

/**
 * Euler's method on the probability-flow ODE `dxbar/dsigma = (xbar - D)/sigma`
 * ("Elucidating the Design Space of Diffusion-Based Generative Models", 2022,
 * Algorithm 1 without the Heun correction). 1 NFE per step, order 1.
 */
export function createEuler(): SamplerV1 {
  return defineSampler({
    name: 'euler',
    nfePerStep: 1,
    stochastic: false,
    nfe: (steps) => steps,
    async run(run, x) {
      for (let i = 0; i < run.steps; i++) {
        const s = run.sigmas[i]!;
        const s1 = run.sigmas[i + 1]!;
        const d = await run.denoised(x, i);
        const next = tf.tidy(() => tf.add(x, tf.mul(tf.div(tf.sub(x, d), s), s1 - s)));
        d.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      return x;
    },
  });
}

/** Settings of {@link createEulerAncestral}. */
export interface EulerAncestralSettings {
  /** Fraction of the ancestral noise (default 1). */
  eta?: number;
  /** Scale of the injected noise (default 1). */
  sNoise?: number;
}

/**
 * Euler ancestral (k-diffusion's `sample_euler_ancestral`, after "Elucidating
 * the Design Space of Diffusion-Based Generative Models", 2022): an Euler step
 * down to `sigma_down`, then noise back up by `sigma_up`. 1 NFE per step.
 */
export function createEulerAncestral(settings: EulerAncestralSettings = {}): SamplerV1 {
  const eta = settings.eta ?? 1;
  const sNoise = settings.sNoise ?? 1;
  if (!(eta >= 0 && sNoise >= 0))
    throw new DiffusionSamplersError(
      'euler-ancestral',
      `eta and sNoise must be >= 0, got ${eta} and ${sNoise}`,
    );
  return defineSampler({
    name: 'euler-ancestral',
    nfePerStep: 1,
    stochastic: true,
    nfe: (steps) => steps,
    async run(run, x) {
      for (let i = 0; i < run.steps; i++) {
        const s = run.sigmas[i]!;
        const s1 = run.sigmas[i + 1]!;
        const up = Math.min(s1, (eta * s1 * Math.sqrt(s * s - s1 * s1)) / s);
        const down = Math.sqrt(Math.max(s1 * s1 - up * up, 0));
        const d = await run.denoised(x, i);
        const z = up > 0 ? run.noise(i) : undefined;
        const next = tf.tidy(() => {
          const stepped = tf.add(x, tf.mul(tf.div(tf.sub(x, d), s), down - s));
          return z === undefined ? stepped : tf.add(stepped, tf.mul(z, up * sNoise));
        });
        z?.dispose();
        d.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      return x;
    },
  });
}

/** Settings of {@link createHeun}: EDM's stochastic churn (Algorithm 2), off by default. */
export interface HeunSettings {
  /** Total churn S_churn (0 = deterministic Algorithm 1, default). */
  sChurn?: number;
  /** Churn only for sigma in [sTmin, sTmax] (defaults 0 and Infinity). */
  sTmin?: number;
  sTmax?: number;
  /** Noise inflation S_noise (default 1). */
  sNoise?: number;
}

/**
 * Heun's second-order method ("Elucidating the Design Space of Diffusion-Based
 * Generative Models", 2022, Algorithm 1; with `sChurn > 0` Algorithm 2):
 * Euler predictor and trapezoid corrector; the step into sigma = 0 is plain
 * Euler. 2 NFE per step, `2N - 1` in all when the grid ends at 0.
 */
export function createHeun(settings: HeunSettings = {}): SamplerV1 {
  const sChurn = settings.sChurn ?? 0;
  const sTmin = settings.sTmin ?? 0;
  const sTmax = settings.sTmax ?? Number.POSITIVE_INFINITY;
  const sNoise = settings.sNoise ?? 1;
  if (!(sChurn >= 0 && sNoise >= 0 && sTmin >= 0 && sTmax >= sTmin))
    throw new DiffusionSamplersError(
      'heun',
      `need sChurn >= 0, sNoise >= 0 and 0 <= sTmin <= sTmax, got ${sChurn}, ${sNoise}, ${sTmin}, ${sTmax}`,
    );
  return defineSampler({
    name: 'heun',
    nfePerStep: 2,
    stochastic: sChurn > 0,
    nfe: (steps, zero) => (zero ? 2 * steps - 1 : 2 * steps),
    async run(run, x) {
      for (let i = 0; i < run.steps; i++) {
        const sGrid = run.sigmas[i]!;
        const s1 = run.sigmas[i + 1]!;
        const gamma =
          sChurn > 0 && sGrid >= sTmin && sGrid <= sTmax
            ? Math.min(sChurn / run.steps, Math.SQRT2 - 1)
            : 0;
        const s = sGrid * (1 + gamma);
        if (gamma > 0) {
          // Raise the noise level to s_hat by adding fresh noise.
          const z = run.noise(i);
          const raised = tf.tidy(() =>
            tf.add(x, tf.mul(z, sNoise * Math.sqrt(s * s - sGrid * sGrid))),
          );
          z.dispose();
          x.dispose();
          x = raised;
        }
        const d = gamma > 0 ? await run.denoisedAt(x, s, i) : await run.denoised(x, i);
        const slope = tf.tidy(() => tf.div(tf.sub(x, d), s));
        d.dispose();
        const euler = tf.tidy(() => tf.add(x, tf.mul(slope, s1 - s)));
        if (s1 === 0) {
          slope.dispose();
          x.dispose();
          x = euler;
          run.stepDone(i);
          continue;
        }
        const d2 = await run.denoised(euler, i + 1, i);
        const next = tf.tidy(() => {
          const slope2 = tf.div(tf.sub(euler, d2), s1);
          return tf.add(x, tf.mul(tf.add(slope, slope2), 0.5 * (s1 - s)));
        });
        for (const t of [d2, euler, slope, x]) t.dispose();
        x = next;
        run.stepDone(i);
      }
      return x;
    },
  });
}
