import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { Denoiser } from '../samplers/types.js';

/** Settings of {@link classifierFreeGuidance}. */
export interface GuidanceOptions<C> {
  /** Guidance scale w (1 = conditional model only). */
  scale: number;
  /** The "null" conditioning of the unconditional branch. */
  uncond: C;
  /**
   * Guidance rescale phi ("Common Diffusion Noise Schedules and Sample Steps
   * are Flawed", 2024, eq. 16), 0 = off (default).
   */
  rescale?: number;
}

/**
 * Classifier-free guidance ("Classifier-Free Diffusion Guidance", 2022): wraps
 * a denoiser so that it returns `u + w (c - u)` from the unconditional and
 * conditional outputs. Two network calls per sampler NFE.
 */
export function classifierFreeGuidance<C>(
  denoise: Denoiser<C>,
  options: GuidanceOptions<C>,
): Denoiser<C> {
  const { scale, uncond } = options;
  const rescale = options.rescale ?? 0;
  if (!Number.isFinite(scale))
    throw new DiffusionSamplersError('guidance', `scale must be a finite number, got ${scale}`);
  if (!(rescale >= 0 && rescale <= 1))
    throw new DiffusionSamplersError('guidance', `rescale must lie in [0, 1], got ${rescale}`);
  return async (x, t, cond, info) => {
    const c = await denoise(x, t, cond, info);
    let u: tf.Tensor;
    try {
      u = await denoise(x, t, uncond, info);
    } catch (error) {
      if (c !== x) c.dispose();
      throw error;
    }
    const out = tf.tidy(() => {
      const guided = tf.add(u, tf.mul(tf.sub(c, u), scale));
      if (rescale === 0) return guided;
      // Match the per-sample std of the guided output to the conditional one.
      const axes = c.shape.slice(1).map((_, i) => i + 1);
      const stdC = tf.sqrt(tf.moments(c, axes, true).variance);
      const stdG = tf.sqrt(tf.moments(guided, axes, true).variance);
      const rescaled = tf.mul(guided, tf.div(stdC, tf.maximum(stdG, 1e-12)));
      return tf.add(tf.mul(rescaled, rescale), tf.mul(guided, 1 - rescale));
    });
    if (c !== x) c.dispose();
    if (u !== x) u.dispose();
    return out;
  };
}
