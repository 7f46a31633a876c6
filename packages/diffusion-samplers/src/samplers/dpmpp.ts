import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { defineSampler } from './run.js';
import type { SamplerV1 } from './types.js';

/** Settings of {@link createDpmSolverPlusPlus}. */
export interface DpmSolverPlusPlusSettings {
  /** 2 (2M, default) or 3 (3M). */
  order?: 2 | 3;
  /** diffusers' `solver_type` for the second-order term (default `midpoint`). */
  solverType?: 'midpoint' | 'heun';
  /** SDE variant (`sde-dpmsolver++`, order 2 only); default false. */
  sde?: boolean;
  /**
   * Lower the order on the last steps as diffusers does when the grid ends at
   * 0 or has fewer than 15 steps (default true). The step into sigma = 0 is
   * always first order: it is the exact limit `xbar = D`.
   */
  lowerOrderFinal?: boolean;
  /**
   * Weight of the second-derivative term of 3M. `taylor` (default) is the
   * exact Taylor weight and gives order 3; `diffusers` reproduces diffusers'
   * `DPMSolverMultistepScheduler` (half that weight; measured order 2 on the
   * oracle, see README).
   */
  thirdOrder?: 'taylor' | 'diffusers';
}

/**
 * DPM-Solver++ multistep in data prediction ("DPM-Solver++: Fast Solver for
 * Guided Sampling of Diffusion Probabilistic Models", 2022), 2M and 3M as in
 * diffusers' `DPMSolverMultistepScheduler`, plus the 2M SDE variant. With
 * `lambda = -log sigma` and `r = sigma'/sigma` the first-order step is
 * `xbar' = r xbar + (1 - r) D`. 1 NFE per step.
 */
export function createDpmSolverPlusPlus(settings: DpmSolverPlusPlusSettings = {}): SamplerV1 {
  const order = settings.order ?? 2;
  const solverType = settings.solverType ?? 'midpoint';
  const sde = settings.sde ?? false;
  const lowerOrderFinal = settings.lowerOrderFinal ?? true;
  const thirdOrder = settings.thirdOrder ?? 'taylor';
  const name = `dpmpp-${order}m${sde ? '-sde' : ''}`;
  if (order !== 2 && order !== 3)
    throw new DiffusionSamplersError('dpmpp', `order must be 2 or 3, got ${String(order)}`);
  if (solverType !== 'midpoint' && solverType !== 'heun')
    throw new DiffusionSamplersError(
      'dpmpp',
      `solverType must be midpoint or heun, got ${String(solverType)}`,
    );
  if (thirdOrder !== 'taylor' && thirdOrder !== 'diffusers')
    throw new DiffusionSamplersError(
      'dpmpp',
      `thirdOrder must be taylor or diffusers, got ${String(thirdOrder)}`,
    );
  if (sde && order !== 2)
    throw new DiffusionSamplersError('dpmpp', 'the SDE variant is implemented for order 2 only');
  return defineSampler({
    name,
    nfePerStep: 1,
    stochastic: sde,
    nfe: (steps) => steps,
    async run(run, x) {
      const sig = run.sigmas;
      const n = run.steps;
      const lower = lowerOrderFinal && (sig[n] === 0 || n < 15);
      const hist: tf.Tensor[] = []; // newest first
      for (let i = 0; i < n; i++) {
        const s = sig[i]!;
        const s1 = sig[i + 1]!;
        const d = await run.denoised(x, i);
        hist.unshift(d);
        if (hist.length > order) hist.pop()!.dispose();
        let stepOrder = Math.min(order, i + 1);
        if (s1 === 0 || (lower && i === n - 1)) stepOrder = 1;
        else if (lower && i === n - 2) stepOrder = Math.min(stepOrder, 2);
        const h = Math.log(s / s1);
        const r = s1 / s;
        const z = sde && s1 > 0 ? run.noise(i) : undefined;
        const next = tf.tidy(() => {
          const m0 = hist[0]!;
          if (sde) {
            // xbar' = r^2 xbar + (1 - r^2) D0 + c D1 + sigma' sqrt(1 - r^2) z, with
            // c = (1 - r^2)/2 (midpoint) or (1 - r^2)/(-2h) + 1 (heun).
            let det = tf.add(tf.mul(x, r * r), tf.mul(m0, 1 - r * r));
            if (stepOrder >= 2) {
              const r0 = Math.log(sig[i - 1]! / s) / h;
              const d1 = tf.div(tf.sub(m0, hist[1]!), r0);
              const c = solverType === 'midpoint' ? 0.5 * (1 - r * r) : (1 - r * r) / (-2 * h) + 1;
              det = tf.add(det, tf.mul(d1, c));
            }
            return z === undefined ? det : tf.add(det, tf.mul(z, s1 * Math.sqrt(1 - r * r)));
          }
          const base = tf.add(tf.mul(x, r), tf.mul(m0, 1 - r));
          if (stepOrder === 1) return base;
          const h0 = Math.log(sig[i - 1]! / s);
          const r0 = h0 / h;
          const d10 = tf.div(tf.sub(m0, hist[1]!), r0);
          if (stepOrder === 2) {
            // midpoint: (1 - r) D1 / 2; heun: ((r - 1)/h + 1) D1 (diffusers).
            const c = solverType === 'midpoint' ? 0.5 * (1 - r) : (r - 1) / h + 1;
            return tf.add(base, tf.mul(d10, c));
          }
          const h1 = Math.log(sig[i - 2]! / sig[i - 1]!);
          const r1 = h1 / h;
          const d11 = tf.div(tf.sub(hist[1]!, hist[2]!), r1);
          const d1 = tf.add(d10, tf.mul(tf.sub(d10, d11), r0 / (r0 + r1)));
          const d2 = tf.mul(tf.sub(d10, d11), 1 / (r0 + r1));
          const em = r - 1; // exp(-h) - 1
          // D2 ~ h^2 m''/2, whose exact weight is 1 - 2 (e^-h - 1 + h)/h^2;
          // diffusers (and the reference dpm-solver code) use half of it.
          const phi3 = 0.5 - (em + h) / (h * h);
          return tf.add(
            tf.add(base, tf.mul(d1, em / h + 1)),
            tf.mul(d2, thirdOrder === 'taylor' ? 2 * phi3 : phi3),
          );
        });
        z?.dispose();
        x.dispose();
        x = next;
        run.stepDone(i);
      }
      for (const t of hist) t.dispose();
      return x;
    },
  });
}
