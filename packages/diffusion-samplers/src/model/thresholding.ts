import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';

/**
 * Clipping of the predicted clean sample. `dynamic` is Imagen's dynamic
 * thresholding ("Photorealistic Text-to-Image Diffusion Models with Deep
 * Language Understanding", 2022): per sample, `s = max(1, quantile(|x0|, ratio))`
 * clamped to `maxValue`, then `x0 <- clip(x0, -s, s) / s`. `clip` clips to
 * `[-range, range]` (diffusers' `clip_sample`).
 */
export type Thresholding =
  | { readonly type: 'dynamic'; readonly ratio?: number; readonly maxValue?: number }
  | { readonly type: 'clip'; readonly range?: number };

/** Checks thresholding settings (called before any model call). */
export function validateThresholding(th: Thresholding | undefined): void {
  if (th === undefined) return;
  if (th.type === 'clip') {
    const r = th.range ?? 1;
    if (!(r > 0))
      throw new DiffusionSamplersError('thresholding', `clip range must be > 0, got ${r}`);
    return;
  }
  if (th.type !== 'dynamic')
    throw new DiffusionSamplersError(
      'thresholding',
      `unknown thresholding '${String((th as { type: unknown }).type)}'; expected dynamic or clip`,
    );
  const ratio = th.ratio ?? 0.995;
  const max = th.maxValue ?? 1;
  if (!(ratio > 0 && ratio <= 1))
    throw new DiffusionSamplersError('thresholding', `ratio must lie in (0, 1], got ${ratio}`);
  if (!(max >= 1))
    throw new DiffusionSamplersError('thresholding', `maxValue must be >= 1, got ${max}`);
}

/**
 * Applies `th` to `x0` (first axis = batch). Returns a new tensor; `x0` is not
 * disposed.
 */
export function applyThresholding(x0: tf.Tensor, th: Thresholding): tf.Tensor {
  return tf.tidy(() => {
    if (th.type === 'clip') {
      const r = th.range ?? 1;
      return tf.clipByValue(x0, -r, r);
    }
    const ratio = th.ratio ?? 0.995;
    const maxValue = th.maxValue ?? 1;
    const batch = x0.shape[0] ?? 1;
    const flat = tf.reshape(tf.abs(x0), [batch, -1]);
    const n = flat.shape[1]!;
    // torch.quantile's linear interpolation between order statistics.
    const pos = ratio * (n - 1);
    const lo = Math.floor(pos);
    const frac = pos - lo;
    const kTop = n - lo; // the top kTop values include ranks lo..n-1
    const top = tf.topk(flat, Math.min(n, kTop)).values; // descending
    const atLo = tf.slice(top, [0, kTop - 1], [batch, 1]);
    const atHi = kTop >= 2 ? tf.slice(top, [0, kTop - 2], [batch, 1]) : atLo;
    const q = tf.add(tf.mul(atLo, 1 - frac), tf.mul(atHi, frac));
    const s = tf.clipByValue(q, 1, maxValue);
    const shape = [batch, ...x0.shape.slice(1).map(() => 1)];
    const sB = tf.reshape(s, shape);
    return tf.div(tf.maximum(tf.minimum(x0, sB), tf.neg(sB)), sB);
  });
}
