import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { Denoiser } from '../samplers/types.js';
import type { ModelSpec } from './parameterisation.js';
import { applyThresholding } from './thresholding.js';

/**
 * Calls the network on the sampler's `xbar` and turns its output into the
 * denoised estimate `D(xbar, sigma)` (predicted x0 in Karras form), checking
 * shape and finiteness so that a bad output is reported with its step.
 */
export class ModelCaller<C> {
  /** Model calls so far. */
  calls = 0;
  private readonly shapeText: string;

  constructor(
    private readonly denoise: Denoiser<C>,
    private readonly model: ModelSpec,
    private readonly cond: C | undefined,
    private readonly shape: readonly number[],
    private readonly checkFinite: boolean,
  ) {
    this.shapeText = `[${shape.join(', ')}]`;
  }

  /**
   * The denoised estimate at `sigma > 0` for sampler step `step`; `time`
   * overrides the model time (grid timesteps). Returns a new tensor.
   */
  async denoised(xbar: tf.Tensor, sigma: number, step: number, time?: number): Promise<tf.Tensor> {
    const scale = this.model.inputScale(sigma);
    const input = tf.tidy(() => tf.mul(xbar, scale));
    const t = time ?? this.model.timeOf(sigma);
    const call = this.calls++;
    let out: tf.Tensor;
    try {
      out = await this.denoise(input, t, this.cond, { sigma, step, call });
    } catch (error) {
      input.dispose();
      throw error;
    }
    try {
      this.check(out, step, sigma);
      if (this.checkFinite) await this.checkValues(out, step, sigma);
      const [a, b] = this.model.denoisedCoefficients(sigma);
      const th = this.model.thresholding;
      return tf.tidy(() => {
        const x0 = a === 0 ? tf.mul(out, b) : tf.add(tf.mul(xbar, a), tf.mul(out, b));
        return th === undefined ? x0 : applyThresholding(x0, th);
      });
    } finally {
      if (out !== input) out.dispose();
      input.dispose();
    }
  }

  private check(value: unknown, step: number, sigma: number): asserts value is tf.Tensor {
    // Duck-typed: a second tfjs copy's tensors are still tensors.
    const out = value as tf.Tensor;
    if (typeof value !== 'object' || value === null || !Array.isArray(out.shape))
      throw new DiffusionSamplersError(
        'denoise',
        `denoise must return a tf.Tensor of shape ${this.shapeText}; got ${typeof out} at step ${step} (sigma = ${sigma})`,
      );
    const same =
      out.shape.length === this.shape.length && out.shape.every((d, i) => d === this.shape[i]);
    if (!same)
      throw new DiffusionSamplersError(
        'denoise',
        `denoise returned shape [${out.shape.join(', ')}], expected ${this.shapeText}, at step ${step} (sigma = ${sigma})`,
      );
  }

  private async checkValues(out: tf.Tensor, step: number, sigma: number): Promise<void> {
    const flag = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(out))));
    const bad = (await flag.data())[0] !== 0;
    flag.dispose();
    if (bad)
      throw new DiffusionSamplersError(
        'denoise',
        `denoise returned NaN or Infinity at step ${step} (sigma = ${sigma}, model call ${this.calls - 1}); expected finite values`,
      );
  }
}
