import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { lagrangeIntegral } from './linalg.js';
import { defineSampler } from './run.js';
import type { SamplerV1 } from './types.js';

/** Settings of {@link createLms}. */
export interface LmsSettings {
  /** Number of past derivatives used (1..6, default 4). */
  order?: number;
}

/**
 * Linear multistep (variable-step Adams–Bashforth in sigma, k-diffusion's
 * `sample_lms`, after "Pseudo Numerical Methods for Diffusion Models on
 * Manifolds", 2022): integrates the Lagrange interpolant of past ODE slopes
 * over each step (exactly, not by quadrature). 1 NFE per step, order = `order`.
 */
export function createLms(settings: LmsSettings = {}): SamplerV1 {
  const order = settings.order ?? 4;
  if (!Number.isInteger(order) || order < 1 || order > 6)
    throw new DiffusionSamplersError('lms', `order must be an integer in 1..6, got ${order}`);
  return defineSampler({
    name: 'lms',
    nfePerStep: 1,
    stochastic: false,
    nfe: (steps) => steps,
    async run(run, x) {
      const sig = run.sigmas;
      const slopes: tf.Tensor[] = []; // newest first
      for (let i = 0; i < run.steps; i++) {
        const s = sig[i]!;
        const d = await run.denoised(x, i);
        slopes.unshift(tf.tidy(() => tf.div(tf.sub(x, d), s)));
        d.dispose();
        if (slopes.length > order) slopes.pop()!.dispose();
        const nodes = slopes.map((_, j) => sig[i - j]!);
        const coeffs = nodes.map((_, j) => lagrangeIntegral(nodes, j, s, sig[i + 1]!));
        const next = tf.tidy(() => {
          let acc = x;
          for (let j = 0; j < slopes.length; j++) acc = tf.add(acc, tf.mul(slopes[j]!, coeffs[j]!));
          return acc;
        });
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      for (const t of slopes) t.dispose();
      return x;
    },
  });
}

// Adams–Bashforth weights for equal steps, newest first (orders 1..4).
const AB: readonly (readonly number[])[] = [
  [1],
  [3 / 2, -1 / 2],
  [23 / 12, -16 / 12, 5 / 12],
  [55 / 24, -59 / 24, 37 / 24, -9 / 24],
];

/**
 * PNDM's pseudo linear multistep method (PLMS; "Pseudo Numerical Methods for
 * Diffusion Models on Manifolds", 2022), as diffusers' `PNDMScheduler` with
 * `skip_prk_steps`: the DDIM transfer (the Euler step in Karras form) driven by
 * an Adams–Bashforth combination of past epsilons with equal-step weights; the
 * first step is a pseudo improved-Euler step (2 NFE). N + 1 NFE in all.
 */
export function createPndm(): SamplerV1 {
  return defineSampler({
    name: 'pndm',
    nfePerStep: 1,
    stochastic: false,
    nfe: (steps, zero) => (steps === 1 && zero ? 1 : steps + 1),
    async run(run, x) {
      const sig = run.sigmas;
      const eps: tf.Tensor[] = []; // newest first
      for (let i = 0; i < run.steps; i++) {
        const s = sig[i]!;
        const s1 = sig[i + 1]!;
        const d = await run.denoised(x, i);
        const e = tf.tidy(() => tf.div(tf.sub(x, d), s));
        d.dispose();
        let combined: tf.Tensor;
        if (eps.length === 0 && s1 > 0) {
          // Pseudo improved Euler: average the slopes at both ends.
          const pred = tf.tidy(() => tf.add(x, tf.mul(e, s1 - s)));
          const d2 = await run.denoised(pred, i + 1, i);
          combined = tf.tidy(() => tf.mul(tf.add(e, tf.div(tf.sub(pred, d2), s1)), 0.5));
          pred.dispose();
          d2.dispose();
        } else {
          const w = AB[Math.min(eps.length, 3)]!;
          combined = tf.tidy(() => {
            let acc = tf.mul(e, w[0]!);
            for (let j = 1; j < w.length; j++) acc = tf.add(acc, tf.mul(eps[j - 1]!, w[j]!));
            return acc;
          });
        }
        eps.unshift(e);
        if (eps.length > 3) eps.pop()!.dispose();
        const next = tf.tidy(() => tf.add(x, tf.mul(combined, s1 - s)));
        combined.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      for (const t of eps) t.dispose();
      return x;
    },
  });
}
