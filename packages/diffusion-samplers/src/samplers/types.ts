import type * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../model/parameterisation.js';
import type { SamplingGrid } from '../schedules/grid.js';

/** What a sampler tells the network besides `x` and `t`. */
export interface DenoiseInfo {
  /** Noise level (Karras form) of this evaluation. */
  readonly sigma: number;
  /** Sampler step the evaluation belongs to (0-based). */
  readonly step: number;
  /** 0-based index of this model call within the run (its NFE so far). */
  readonly call: number;
}

/**
 * The network: maps a noisy input, its time and the conditioning to a tensor
 * of the same shape. The sampler disposes the returned tensor (unless it is
 * `x` itself); `x` is disposed by the sampler after the call.
 */
export type Denoiser<C = unknown> = (
  x: tf.Tensor,
  t: number,
  cond: C | undefined,
  info: DenoiseInfo,
) => tf.Tensor | Promise<tf.Tensor>;

/** What the driver reports after every step. */
export interface StepEvent {
  readonly step: number;
  readonly sigma: number;
  readonly nextSigma: number;
  /** Model calls so far. */
  readonly nfe: number;
}

/** Arguments of {@link SamplerV1.sample}. */
export interface SampleArgs<C = unknown> {
  denoise: Denoiser<C>;
  model: ModelSpec;
  grid: SamplingGrid;
  /** Standard normal noise with the sample's shape (first axis = batch); not disposed. */
  noise: tf.Tensor;
  cond?: C;
  /** Seed of the sampler's own noise (stochastic samplers); default 0. */
  seed?: number;
  /**
   * Replaces the seeded host noise of stochastic samplers (e.g. an on-device
   * generator): returns a new standard normal tensor of `shape`, owned by the
   * sampler.
   */
  noiseSource?: (shape: readonly number[], step: number) => tf.Tensor;
  /**
   * Check every network output for NaN/Infinity (one small device read per
   * call). Default true; shapes are always checked.
   */
  checkFinite?: boolean;
  onStep?: (event: StepEvent) => void;
}

/**
 * A sampler, versioned so the interface can evolve without breaking callers
 * (as the AI SDK's `LanguageModelV1`). `sample` returns a new tensor in the
 * model's data space at the grid's last sigma; the caller disposes it.
 */
export interface SamplerV1 {
  readonly specificationVersion: 'v1';
  /** Stable identifier, e.g. `dpmpp-2m`. */
  readonly name: string;
  /** Network evaluations per step in the steady state. */
  readonly nfePerStep: number;
  /** True if the sampler injects fresh noise. */
  readonly stochastic: boolean;
  /** Total network evaluations over a grid of `steps` steps (after validation). */
  nfe(steps: number, finalSigmaIsZero?: boolean): number;
  sample<C>(args: SampleArgs<C>): Promise<tf.Tensor>;
}
