import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkMatrix } from '../internal/validate.js';
import type { Routing } from '../routers/types.js';

const MODULE = 'min-capacity';

/**
 * δ for LocMoE's capacity bound ("LocMoE: A Low-overhead MoE for Large
 * Language Model Training", Li et al., 2024): the cosine of the largest
 * angle between a token `x_t` `[T, D]` and the gating weight `ω_e` (column
 * e of `gateWeight` `[D, E]`) of an expert it was routed to, i.e. the
 * `quantile`-th (default 0, the minimum) of `cos(x_t, ω_e)` over the
 * routing's assignments, clamped to >= 0 (Lemma 3 is stated for δ >= 0).
 * A quantile above 0 ignores the worst outliers. Computed on the host; not
 * differentiable (it is a statistic of a trained router).
 */
export function gateAngleDelta(
  x: tf.Tensor2D,
  gateWeight: tf.Tensor2D,
  routing: Routing,
  quantile = 0,
): number {
  checkMatrix(MODULE, 'x', x, undefined, routing.numTokens);
  checkMatrix(MODULE, 'gateWeight', gateWeight, routing.numRoutedExperts, x.shape[1]);
  if (!(quantile >= 0 && quantile <= 1)) {
    throw new MoeRoutingError(MODULE, `quantile must be a number in [0, 1], got ${quantile}`);
  }
  const n = routing.tokenIndex.length;
  if (n === 0) throw new MoeRoutingError(MODULE, 'routing has no assignments to measure δ on');
  const cos = tf.tidy(() => {
    const xn = tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-30));
    const wn = tf.div(gateWeight, tf.maximum(tf.norm(gateWeight, 'euclidean', 0, true), 1e-30));
    return tf.matMul(xn, wn).dataSync() as Float32Array;
  });
  const E = routing.numRoutedExperts;
  const picked: number[] = [];
  // Shared experts (index >= E) have no gating weight: they are not routed.
  for (let a = 0; a < n; a++) {
    const e = routing.expertIndex[a]!;
    if (e < E) picked.push(cos[routing.tokenIndex[a]! * E + e]!);
  }
  if (picked.length === 0) throw new MoeRoutingError(MODULE, 'routing has no routed assignments');
  const values = Float64Array.from(picked).sort();
  const v = values[Math.min(values.length - 1, Math.floor(quantile * (values.length - 1)))]!;
  return Math.min(Math.max(v, 0), 1 - 1e-12);
}
