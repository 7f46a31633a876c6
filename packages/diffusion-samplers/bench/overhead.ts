// The sampler's own per-step cost against a trivial denoiser, as a ratio to
// one U-Net-sized op sequence on a 256x256x4 latent.
import * as tf from '@tensorflow/tfjs-core';
import {
  createDdpm,
  createDpmSolverPlusPlus,
  createEulerAncestral,
  createVpModel,
  DiscreteVpSchedule,
  type SamplerV1,
  vpGrid,
} from '../src/index.js';
import { zoo } from './zoo.js';

const SHAPE = [1, 256, 256, 4];
const STEPS = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * The reference "U-Net-sized op sequence": one residual conv block at full
 * resolution, conv3x3 4->64, ReLU, conv3x3 64->64, ReLU, conv3x3 64->4, plus
 * the skip add (a small fraction of a real U-Net's work).
 */
export function referenceOpMs(repeats = 3): number {
  const w1 = tf.randomNormal([3, 3, 4, 64], 0, 0.1);
  const w2 = tf.randomNormal([3, 3, 64, 64], 0, 0.05);
  const w3 = tf.randomNormal([3, 3, 64, 4], 0, 0.05);
  const x = tf.randomNormal(SHAPE);
  const times: number[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const y = tf.tidy(() => {
      const h1 = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'));
      const h2 = tf.relu(tf.conv2d(h1, w2 as tf.Tensor4D, 1, 'same'));
      return tf.add(x, tf.conv2d(h2, w3 as tf.Tensor4D, 1, 'same'));
    });
    y.dataSync();
    y.dispose();
    if (r > 0) times.push(performance.now() - t0); // first run warms kernels
  }
  tf.dispose([w1, w2, w3, x]);
  return median(times);
}

/** Per-step cost of one sampler with a trivial denoiser. */
export interface OverheadRow {
  sampler: string;
  checkFinite: boolean;
  /** Wall time per step with the trivial denoiser (sampler + trivial network). */
  perStepMs: number;
  denoiserPerCallMs: number;
  /** Upper bound on the sampler's own cost per step (= perStepMs). */
  samplerPerStepMs: number;
  ratio: number;
}

/** Per-step sampler overhead for every sampler, with and without the finite check. */
export async function samplerOverhead(referenceMs: number, repeats = 3): Promise<OverheadRow[]> {
  const schedule = DiscreteVpSchedule.fromBetaSchedule('scaled_linear', {
    betaStart: 0.00085,
    betaEnd: 0.012,
  });
  const model = createVpModel({ schedule });
  const grid = vpGrid(schedule, STEPS, { spacing: 'karras' });
  const noise = tf.randomNormal(SHAPE);
  const trivial = (x: tf.Tensor) => tf.zerosLike(x);
  // Cost of the trivial denoiser itself (reported, not subtracted: the
  // ratio below is an upper bound on the sampler's own cost).
  const calls = 20;
  const t0 = performance.now();
  for (let r = 0; r < calls; r++) trivial(noise).dispose();
  const denoiserMs = (performance.now() - t0) / calls;
  const samplers: [string, SamplerV1][] = [
    ...zoo.map((e) => [e.name, e.make('zero')] as [string, SamplerV1]),
    ['ddpm', createDdpm()],
    ['euler-ancestral', createEulerAncestral()],
    ['dpmpp-2m-sde', createDpmSolverPlusPlus({ sde: true })],
  ];
  const rows: OverheadRow[] = [];
  for (const [name, sampler] of samplers)
    for (const checkFinite of [false, true]) {
      const times: number[] = [];
      for (let r = 0; r < repeats + 1; r++) {
        const t0 = performance.now();
        const out = await sampler.sample({ denoise: trivial, model, grid, noise, checkFinite });
        out.dataSync();
        out.dispose();
        if (r > 0) times.push(performance.now() - t0);
      }
      const perStep = median(times) / STEPS;
      const own = perStep;
      rows.push({
        sampler: name,
        checkFinite,
        perStepMs: perStep,
        denoiserPerCallMs: denoiserMs,
        samplerPerStepMs: own,
        ratio: own / referenceMs,
      });
    }
  noise.dispose();
  return rows;
}
