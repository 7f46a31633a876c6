import type { CollectiveGroupV1 } from '@plexus/collectives';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { ModelSpec } from '../model/parameterisation.js';
import type { Denoiser, SamplerV1 } from '../samplers/types.js';
import type { SamplingGrid } from '../schedules/grid.js';
import { DisplacedExchange } from './exchange.js';
import { assemblePatches, patchRows } from './patch-layout.js';
import type { ParallelSampleResult, PatchContextV1, PatchDenoiser } from './types.js';
import { checkGroup, checkNoise, checkWarmup } from './validate.js';

const MODULE = 'parallel/distrifusion';

/** Arguments of {@link patchParallelSample}. */
export interface PatchParallelArgs<C = unknown> {
  /** This rank's process group; every rank calls with the same arguments. */
  group: CollectiveGroupV1;
  /** Any deterministic sampler (DDIM, Euler, Heun, DPM-Solver++, UniPC, ...). */
  sampler: SamplerV1;
  net: PatchDenoiser<C>;
  model: ModelSpec;
  grid: SamplingGrid;
  /** The full initial noise `[batch, rows, ...]`, identical on every rank; not disposed. */
  noise: tf.Tensor;
  cond?: C;
  /**
   * Sampler steps whose exchanges are synchronous (DistriFusion's warm-up;
   * the paper uses 4 of 50). Default 1. `grid` steps or more = exact.
   */
  warmupSteps?: number;
  checkFinite?: boolean;
  /** Per-collective timeout in ms (default: the group's). */
  timeoutMs?: number;
}

/**
 * Displaced patch parallelism (DistriFusion, "DistriFusion: Distributed
 * Parallel Inference for High-Resolution Diffusion Models", 2024): rank `r`
 * runs the sampler on rows `[r h, (r + 1) h)` of the latent only; layers
 * that need the whole image call `ctx.exchange`, which during the first
 * `warmupSteps` steps all-gathers fresh activations and afterwards combines
 * the fresh local patch with the other patches of the previous model call
 * while this call's patches are all-gathered in the background (hidden
 * behind the next step's compute on real devices). The patches are
 * all-gathered once at the end, so every rank returns the full sample.
 *
 * With one rank it is the plain sampler on `patchDenoiserAsDenoiser(net)`,
 * bit for bit. Samplers that inject noise and dynamic thresholding (a
 * per-sample quantile over the whole image) are refused: both would differ
 * per patch.
 */
export async function patchParallelSample<C>(
  args: PatchParallelArgs<C>,
): Promise<ParallelSampleResult> {
  const group = checkGroup(MODULE, args.group);
  const noise = checkNoise(MODULE, args.noise, 2);
  const warmup = checkWarmup(MODULE, args.warmupSteps ?? 1, 0);
  const { sampler, grid, model } = args;
  if (sampler === undefined || typeof sampler.sample !== 'function')
    throw new DiffusionSamplersError(MODULE, 'sampler must be a SamplerV1 (e.g. createDdim())');
  if (sampler.stochastic)
    throw new DiffusionSamplersError(
      MODULE,
      `sampler '${sampler.name}' injects noise, which would differ per patch; use a deterministic sampler (DDIM eta=0, Euler, Heun, DPM-Solver++, UniPC, LMS, PNDM)`,
    );
  if (model?.thresholding?.type === 'dynamic')
    throw new DiffusionSamplersError(
      MODULE,
      "dynamic thresholding needs a quantile over the whole image; use { type: 'clip' } or none with patch parallelism",
    );
  if (typeof args.net !== 'function')
    throw new DiffusionSamplersError(
      MODULE,
      'net must be a function (xPatch, t, cond, info, ctx) => tf.Tensor',
    );
  const { rank, worldSize } = group;
  const rows = noise.shape[1]!;
  if (rows % worldSize !== 0)
    throw new DiffusionSamplersError(
      MODULE,
      `noise axis 1 (${rows} rows) must be divisible by the world size ${worldSize}`,
    );
  const h = rows / worldSize;
  const sigmas = grid?.sigmas;
  const steps = sigmas === undefined ? 0 : sigmas.length - 1;
  const totalCalls = steps > 0 ? sampler.nfe(steps, sigmas![steps] === 0) : 0;
  const exchange = new DisplacedExchange(group, args.timeoutMs);
  let calls = 0;
  const denoise: Denoiser<C> = (x, t, cond, info) => {
    calls++;
    const ctx = exchange.context(
      rank * h,
      (rank + 1) * h,
      rows,
      info.step < warmup,
      info.call < totalCalls - 1,
    );
    return args.net(x, t, cond, info, ctx);
  };
  const local = patchRows(noise, rank * h, h);
  let patch: tf.Tensor;
  try {
    patch = await sampler.sample({
      denoise,
      model,
      grid,
      noise: local,
      ...(args.cond === undefined ? {} : { cond: args.cond }),
      ...(args.checkFinite === undefined ? {} : { checkFinite: args.checkFinite }),
    });
  } finally {
    local.dispose();
  }
  await exchange.drain();
  let sample: tf.Tensor;
  if (worldSize === 1) sample = patch;
  else {
    const data = (await patch.data()) as Float32Array;
    const shape = patch.shape.slice();
    patch.dispose();
    exchange.payloadBytes += data.byteLength;
    exchange.collectives++;
    const opts = args.timeoutMs === undefined ? undefined : { timeoutMs: args.timeoutMs };
    sample = assemblePatches(await group.allGather(data, opts), shape, worldSize);
  }
  return {
    sample,
    stats: {
      modelCalls: calls,
      collectives: exchange.collectives,
      payloadBytes: exchange.payloadBytes,
      synchronousExchanges: exchange.synchronousExchanges,
      staleExchanges: exchange.staleExchanges,
    },
  };
}

/**
 * The sequential network behind a {@link PatchDenoiser}: runs it on the
 * whole latent as the only patch, where `exchange` returns its input. The
 * plain samplers on this denoiser are the reference of
 * {@link patchParallelSample}.
 */
export function patchDenoiserAsDenoiser<C>(net: PatchDenoiser<C>): Denoiser<C> {
  return (x, t, cond, info) => {
    const ctx: PatchContextV1 = {
      specificationVersion: 'v1',
      rank: 0,
      worldSize: 1,
      rowStart: 0,
      rowEnd: x.shape[1] ?? 0,
      rows: x.shape[1] ?? 0,
      synchronous: true,
      exchange: async (_name, local) => tf.clone(local),
    };
    return net(x, t, cond, info, ctx);
  };
}
