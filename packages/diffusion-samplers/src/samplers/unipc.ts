import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { solveSmall } from './linalg.js';
import { defineSampler } from './run.js';
import type { SamplerV1 } from './types.js';

/** Settings of {@link createUniPc}. */
export interface UniPcSettings {
  /** Predictor order p (1..3, default 2); with the corrector the accuracy is p + 1. */
  order?: number;
  /** `bh1` (B(h) = h) or `bh2` (B(h) = e^h - 1, default). */
  variant?: 'bh1' | 'bh2';
  /** Use the UniC corrector (default true). */
  corrector?: boolean;
  /** Lower the order on the last p - 1 steps (diffusers' `lower_order_final`, default true). */
  lowerOrderFinal?: boolean;
}

/**
 * UniPC ("UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
 * Diffusion Models", 2023) in data prediction, as diffusers'
 * `UniPCMultistepScheduler`: UniP-p predictor plus the UniC corrector, which
 * reuses the next step's model output, so 1 NFE per step.
 */
export function createUniPc(settings: UniPcSettings = {}): SamplerV1 {
  const order = settings.order ?? 2;
  const variant = settings.variant ?? 'bh2';
  const useCorrector = settings.corrector ?? true;
  const lowerOrderFinal = settings.lowerOrderFinal ?? true;
  if (!Number.isInteger(order) || order < 1 || order > 3)
    throw new DiffusionSamplersError('unipc', `order must be 1, 2 or 3, got ${order}`);
  if (variant !== 'bh1' && variant !== 'bh2')
    throw new DiffusionSamplersError('unipc', `variant must be bh1 or bh2, got ${String(variant)}`);
  return defineSampler({
    name: 'unipc',
    nfePerStep: 1,
    stochastic: false,
    nfe: (steps) => steps,
    async run(run, x) {
      const sig = run.sigmas;
      const n = run.steps;
      const hist: tf.Tensor[] = []; // model outputs, newest first
      let last: tf.Tensor | undefined; // sample before the last predictor step
      let lastOrder = 1;
      for (let i = 0; i < n; i++) {
        const d = await run.denoised(x, i);
        if (useCorrector && last !== undefined) {
          // Correct x (at sig[i]) from last (at sig[i-1]) with the new output d.
          const corrected = update(last, hist, sig, i - 1, lastOrder, variant, d);
          x.dispose();
          x = corrected;
        }
        last?.dispose();
        hist.unshift(d);
        if (hist.length > order) hist.pop()!.dispose();
        let stepOrder = lowerOrderFinal ? Math.min(order, n - i) : order;
        stepOrder = Math.min(stepOrder, i + 1);
        if (sig[i + 1] === 0) stepOrder = 1; // exact limit xbar = D
        last = x;
        x = update(last, hist, sig, i, stepOrder, variant);
        lastOrder = stepOrder;
        run.stepDone(i);
      }
      last?.dispose();
      for (const t of hist) t.dispose();
      return x;
    },
  });
}

/**
 * One UniP (no `modelT`) or UniC (with `modelT`, the output at sig[i+1]) step
 * from `x` at sig[i] to sig[i+1], in Karras form (diffusers' formulas / alpha_t).
 * `hist[0]` is the output at sig[i], `hist[k]` at sig[i-k].
 */
function update(
  x: tf.Tensor,
  hist: readonly tf.Tensor[],
  sig: Float64Array,
  i: number,
  order: number,
  variant: 'bh1' | 'bh2',
  modelT?: tf.Tensor,
): tf.Tensor {
  const s0 = sig[i]!;
  const st = sig[i + 1]!;
  const r = st / s0;
  const m0 = hist[0]!;
  // Number of history differences: p - 1 (predictor) or p - 1 (corrector, plus D1_t).
  const k = order - 1;
  if (st === 0) return tf.clone(m0);
  const h = Math.log(s0 / st);
  const hh = -h;
  const hPhi1 = Math.expm1(hh);
  const bh = variant === 'bh1' ? hh : Math.expm1(hh);
  const rks: number[] = [];
  for (let j = 1; j <= k; j++) rks.push(Math.log(s0 / sig[i - j]!) / h);
  rks.push(1);
  // R[j][c] = rks[c]^j, b[j] = h_phi_{j+1} (j+1)! / B(h)
  const size = order;
  const R: number[][] = [];
  const b: number[] = [];
  let hPhiK = hPhi1 / hh - 1;
  let fact = 1;
  for (let j = 1; j <= size; j++) {
    R.push(rks.map((rk) => rk ** (j - 1)));
    b.push((hPhiK * fact) / bh);
    fact *= j + 1;
    hPhiK = hPhiK / hh - 1 / fact;
  }
  let rhos: number[];
  if (modelT === undefined) {
    rhos = k === 0 ? [] : k === 1 ? [0.5] : solveSmall(sub(R, k), b.slice(0, k));
  } else {
    rhos = order === 1 ? [0.5] : solveSmall(sub(R, size), b.slice(0, size));
  }
  return tf.tidy(() => {
    let out = tf.add(tf.mul(x, r), tf.mul(m0, -hPhi1));
    let res: tf.Tensor | undefined;
    for (let j = 1; j <= k; j++) {
      const d1 = tf.div(tf.sub(hist[j]!, m0), rks[j - 1]!);
      const term = tf.mul(d1, rhos[j - 1]!);
      res = res === undefined ? term : tf.add(res, term);
    }
    if (modelT !== undefined) {
      const term = tf.mul(tf.sub(modelT, m0), rhos[rhos.length - 1]!);
      res = res === undefined ? term : tf.add(res, term);
    }
    if (res !== undefined) out = tf.sub(out, tf.mul(res, bh));
    return out;
  });
}

function sub(m: number[][], n: number): number[][] {
  return m.slice(0, n).map((row) => row.slice(0, n));
}
