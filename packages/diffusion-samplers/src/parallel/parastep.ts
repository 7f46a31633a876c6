import type { CollectiveGroupV1 } from '@plexus/collectives';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { ModelCaller } from '../model/caller.js';
import type { ModelSpec } from '../model/parameterisation.js';
import { validateThresholding } from '../model/thresholding.js';
import type { Denoiser } from '../samplers/types.js';
import type { SamplingGrid } from '../schedules/grid.js';
import { validateSigmas } from '../schedules/validate.js';
import type { ParallelSampleResult } from './types.js';
import { checkGroup, checkNoise, checkWarmup } from './validate.js';

const MODULE = 'parallel/parastep';

/** Arguments of {@link paraStepSample}. */
export interface ParaStepArgs<C = unknown> {
  /** This rank's process group; every rank calls with the same arguments. */
  group: CollectiveGroupV1;
  denoise: Denoiser<C>;
  model: ModelSpec;
  grid: SamplingGrid;
  /** The initial noise, identical on every rank; not disposed. */
  noise: tf.Tensor;
  cond?: C;
  /**
   * Sequential steps every rank computes before the parallel rounds (at
   * least 1: a rank needs a noise prediction to reuse). Default 1; the
   * authors' default is 5.
   */
  warmupSteps?: number;
  /**
   * Final steps every rank computes sequentially again (default 0, as the
   * paper). Not in ParaStep: the last steps into sigma = 0 move the sample
   * most per step on low-noise detail, so reusing a stale prediction there
   * costs most (see the README's measurements).
   */
  cooldownSteps?: number;
  checkFinite?: boolean;
  /** Per-collective timeout in ms (default: the group's). */
  timeoutMs?: number;
}

/**
 * ParaStep ("Communication-Efficient Diffusion Denoising Parallelization via
 * Reuse-then-Predict Mechanism", 2025) on the Euler / DDIM (eta = 0) update
 * `xbar += (sigma' - sigma) eps`. After `warmupSteps` sequential steps, the
 * remaining steps go in rounds of `P = worldSize`: from the round's latent
 * `x_s`, rank `r` *reuses* its last own noise prediction for `r` steps to
 * reach an estimate of `x_{s+r}` and *predicts* the noise there, all ranks
 * at once; ranks 1..P-1 send their predictions to rank 0, which applies the
 * P predictions in order (`x_{s+j+1} = x_{s+j} + dsigma_j eps_j`) and
 * broadcasts `x_{s+P}`. Per round: one model call of latency, P - 1 sends
 * and one broadcast of one latent each (as the authors' code: point to point
 * to rank 0, then `dist.broadcast`).
 *
 * With one rank, or `warmupSteps` >= the step count, it is `createEuler()`
 * bit for bit. `cooldownSteps` (an addition, not in the paper) runs the
 * last steps sequentially on every rank as well.
 */
export async function paraStepSample<C>(args: ParaStepArgs<C>): Promise<ParallelSampleResult> {
  const group = checkGroup(MODULE, args.group);
  const noise = checkNoise(MODULE, args.noise, 1);
  const warmup = checkWarmup(MODULE, args.warmupSteps ?? 1, 1);
  const cooldown = checkWarmup(MODULE, args.cooldownSteps ?? 0, 0, 'cooldownSteps');
  if (typeof args.denoise !== 'function')
    throw new DiffusionSamplersError(
      MODULE,
      'denoise must be a function (x, t, cond, info) => tf.Tensor',
    );
  if (args.grid?.sigmas === undefined)
    throw new DiffusionSamplersError(
      MODULE,
      'grid with sigmas is required (see vpGrid, sigmaGrid)',
    );
  const sigmas = args.grid.sigmas;
  validateSigmas(sigmas, MODULE);
  validateThresholding(args.model.thresholding);
  const timesteps = args.grid.timesteps;
  const steps = sigmas.length - 1;
  const { rank, worldSize } = group;
  const opts = args.timeoutMs === undefined ? undefined : { timeoutMs: args.timeoutMs };
  const caller = new ModelCaller(
    args.denoise,
    args.model,
    args.cond,
    noise.shape,
    args.checkFinite ?? true,
  );
  let collectives = 0;
  let payloadBytes = 0;

  // eps_i = (xbar - D) / sigma: the quantity ParaStep reuses (its noise_pred).
  const eps = async (x: tf.Tensor, i: number): Promise<tf.Tensor> => {
    const d = await caller.denoised(x, sigmas[i]!, i, timesteps?.[i]);
    const e = tf.tidy(() => tf.div(tf.sub(x, d), sigmas[i]!));
    d.dispose();
    return e;
  };
  const step = (x: tf.Tensor, e: tf.Tensor, i: number): tf.Tensor =>
    tf.tidy(() => tf.add(x, tf.mul(e, sigmas[i + 1]! - sigmas[i]!)));

  let x = tf.tidy(() => tf.mul(noise, args.model.initNoiseScale(sigmas[0]!)));
  let cache: tf.Tensor | undefined;
  try {
    const w = Math.min(warmup, steps);
    const end = Math.max(w, steps - cooldown);
    const sequential = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        const e = await eps(x, i);
        const next = step(x, e, i);
        x.dispose();
        cache?.dispose();
        x = next;
        cache = e;
      }
    };
    await sequential(0, w);
    for (let s = w; s < end; s += worldSize) {
      const width = Math.min(worldSize, end - s);
      // Reuse: walk r steps on the stale prediction, then predict there.
      let mine: tf.Tensor | undefined;
      if (rank < width) {
        let y = tf.clone(x);
        for (let j = 0; j < rank; j++) {
          const next = step(y, cache!, s + j);
          y.dispose();
          y = next;
        }
        mine = await eps(y, s + rank);
        y.dispose();
        cache!.dispose();
        cache = mine;
      }
      if (rank === 0) {
        let e = mine!;
        for (let j = 0; j < width; j++) {
          if (j > 0) {
            const buf = new Float32Array(e.size);
            await group.recv(buf, j, opts);
            e = tf.tensor(buf, noise.shape.slice());
          }
          const next = step(x, e, s + j);
          if (j > 0) e.dispose();
          x.dispose();
          x = next;
        }
      } else if (mine !== undefined) {
        const data = (await mine.data()) as Float32Array;
        collectives++;
        payloadBytes += data.byteLength;
        await group.send(data, 0, opts);
      }
      if (worldSize > 1) {
        const buf =
          rank === 0 ? ((await x.data()) as Float32Array).slice() : new Float32Array(x.size);
        collectives++;
        if (rank === 0) payloadBytes += buf.byteLength;
        await group.broadcast(buf, 0, opts);
        if (rank !== 0) {
          x.dispose();
          x = tf.tensor(buf, noise.shape.slice());
        }
      }
    }
    await sequential(end, steps);
  } catch (error) {
    x.dispose();
    cache?.dispose();
    throw error;
  }
  cache?.dispose();
  const scale = args.model.dataScale(sigmas[steps]!);
  const sample = scale === 1 ? x : tf.tidy(() => tf.mul(x, scale));
  if (sample !== x) x.dispose();
  return {
    sample,
    stats: {
      modelCalls: caller.calls,
      collectives,
      payloadBytes,
      synchronousExchanges: 0,
      staleExchanges: 0,
    },
  };
}

/** Model-call latency of ParaStep in units of one call: warm-up plus one call per round. */
export function paraStepLatencyCalls(
  steps: number,
  worldSize: number,
  warmupSteps: number,
  cooldownSteps = 0,
): number {
  const w = Math.min(warmupSteps, steps);
  const end = Math.max(w, steps - cooldownSteps);
  return w + Math.ceil((end - w) / worldSize) + (steps - end);
}
