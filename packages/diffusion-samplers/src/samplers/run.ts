import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import { ModelCaller } from '../model/caller.js';
import { validateThresholding } from '../model/thresholding.js';
import { validateSigmas } from '../schedules/validate.js';
import { StepNoise } from './noise.js';
import type { SampleArgs, SamplerV1 } from './types.js';

/**
 * One sampling run: the grid, the model caller, the sampler's own noise and
 * the step reports. Samplers work on `xbar` (Karras form) through it.
 */
export class SamplingRun<C> {
  readonly sigmas: Float64Array;
  /** Number of steps N (grid length - 1). */
  readonly steps: number;
  readonly shape: number[];
  private readonly caller: ModelCaller<C>;
  private readonly timesteps: Float64Array | undefined;
  private readonly rng: StepNoise;
  private readonly noiseSource: SampleArgs<C>['noiseSource'];
  private readonly onStep: SampleArgs<C>['onStep'];

  constructor(args: SampleArgs<C>) {
    this.sigmas = args.grid.sigmas;
    this.steps = this.sigmas.length - 1;
    this.shape = args.noise.shape.slice();
    this.timesteps = args.grid.timesteps;
    this.caller = new ModelCaller(
      args.denoise,
      args.model,
      args.cond,
      this.shape,
      args.checkFinite ?? true,
    );
    this.rng = new StepNoise(args.seed ?? 0);
    this.noiseSource = args.noiseSource;
    this.onStep = args.onStep;
  }

  /** Model calls so far. */
  get nfe(): number {
    return this.caller.calls;
  }

  /** Denoised estimate at grid point `i` (uses the grid's timestep if any). */
  denoised(xbar: tf.Tensor, i: number, step = i): Promise<tf.Tensor> {
    return this.caller.denoised(xbar, this.sigmas[i]!, step, this.timesteps?.[i]);
  }

  /** Denoised estimate at an off-grid noise level. */
  denoisedAt(xbar: tf.Tensor, sigma: number, step: number): Promise<tf.Tensor> {
    return this.caller.denoised(xbar, sigma, step);
  }

  /** Fresh standard normal noise with the sample's shape, for step `step`. */
  noise(step = -1): tf.Tensor {
    if (this.noiseSource === undefined) return this.rng.tensor(this.shape);
    const z = this.noiseSource(this.shape, step);
    const ok = z.shape.length === this.shape.length && z.shape.every((d, i) => d === this.shape[i]);
    if (!ok) {
      z.dispose();
      throw new DiffusionSamplersError(
        'noise',
        `noiseSource returned shape [${z.shape.join(', ')}], expected [${this.shape.join(', ')}] at step ${step}`,
      );
    }
    return z;
  }

  /** Report the end of step `i`. */
  stepDone(i: number): void {
    this.onStep?.({
      step: i,
      sigma: this.sigmas[i]!,
      nextSigma: this.sigmas[i + 1]!,
      nfe: this.caller.calls,
    });
  }
}

/** Behaviour a concrete sampler supplies to {@link defineSampler}. */
export interface SamplerDefinition {
  name: string;
  nfePerStep: number;
  stochastic: boolean;
  nfe(steps: number, finalSigmaIsZero: boolean): number;
  /** Integrates from `xbar` at sigmas[0] to sigmas[N]; owns and may dispose `xbar`. */
  run<C>(run: SamplingRun<C>, xbar: tf.Tensor): Promise<tf.Tensor>;
}

/**
 * Wraps a sampler body with what every sampler shares: input validation
 * before any model call, the initial noise scaling, and the conversion of the
 * final `xbar` to the model's data space.
 */
export function defineSampler(def: SamplerDefinition): SamplerV1 {
  return {
    specificationVersion: 'v1',
    name: def.name,
    nfePerStep: def.nfePerStep,
    stochastic: def.stochastic,
    nfe(steps, finalSigmaIsZero = true) {
      if (!Number.isInteger(steps) || steps <= 0)
        throw new DiffusionSamplersError(
          def.name,
          `steps must be a positive integer, got ${steps}`,
        );
      return def.nfe(steps, finalSigmaIsZero);
    },
    async sample<C>(args: SampleArgs<C>): Promise<tf.Tensor> {
      validateArgs(def.name, args);
      const run = new SamplingRun(args);
      const s0 = run.sigmas[0]!;
      const xbar0 = tf.tidy(() => tf.mul(args.noise, args.model.initNoiseScale(s0)));
      const xbar = await def.run(run, xbar0);
      const last = run.sigmas[run.steps]!;
      const scale = args.model.dataScale(last);
      if (scale === 1) return xbar;
      const out = tf.tidy(() => tf.mul(xbar, scale));
      xbar.dispose();
      return out;
    },
  };
}

function validateArgs<C>(module: string, args: SampleArgs<C>): void {
  if (typeof args.denoise !== 'function')
    throw new DiffusionSamplersError(
      module,
      'denoise must be a function (x, t, cond, info) => tf.Tensor',
    );
  if (args.grid === undefined || args.grid.sigmas === undefined)
    throw new DiffusionSamplersError(
      module,
      'grid with sigmas is required (see vpGrid, sigmaGrid)',
    );
  validateSigmas(args.grid.sigmas, module);
  const ts = args.grid.timesteps;
  if (ts !== undefined && ts.length < args.grid.sigmas.length - 1)
    throw new DiffusionSamplersError(
      module,
      `grid.timesteps must have one entry per step (${args.grid.sigmas.length - 1}), got ${ts.length}`,
    );
  const noise = args.noise as tf.Tensor | undefined;
  if (noise === undefined || !Array.isArray(noise.shape) || noise.shape.length === 0)
    throw new DiffusionSamplersError(
      module,
      'noise must be a tf.Tensor of rank >= 1 (batch first)',
    );
  if (noise.dtype !== 'float32')
    throw new DiffusionSamplersError(module, `noise must be float32, got ${noise.dtype}`);
  validateThresholding(args.model.thresholding);
}
