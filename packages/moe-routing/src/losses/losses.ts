import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkMatrix } from '../internal/validate.js';
import type { Routing } from '../routers/types.js';

/**
 * Switch load-balancing loss `alpha · N · Σ_i f_i · P_i` ("Switch
 * Transformers", Fedus et al., 2021), where `f_i` is the fraction of tokens
 * whose top-1 expert is i (counted before capacity drops, not differentiable)
 * and `P_i` the mean router probability of expert i (differentiable). It is
 * minimised, at `alpha`, by uniform routing: with `P_i = 1/N` it equals
 * `alpha` whatever `f` is.
 */
export function loadBalancingLoss(routing: Routing, alpha = 0.01): tf.Scalar {
  if (!Number.isFinite(alpha) || alpha < 0) {
    throw new MoeRoutingError('losses', `alpha must be a finite number >= 0, got ${alpha}`);
  }
  const n = routing.numRoutedExperts;
  const f = new Float32Array(n);
  for (const e of routing.top1) f[e]! += 1 / routing.numTokens;
  return tf.tidy(() => {
    const p = tf.mean(routing.probs, 0);
    return tf.mul(alpha * n, tf.sum(tf.mul(tf.tensor1d(f), p))) as tf.Scalar;
  });
}

/**
 * Router z-loss `coef · mean_t (log Σ_i exp(z_ti))²` ("ST-MoE: Designing
 * Stable and Transferable Sparse Expert Models", Zoph et al., 2022): keeps
 * router logits small, which keeps the float32 softmax well-conditioned.
 */
export function routerZLoss(logits: tf.Tensor2D, coef = 0.001): tf.Scalar {
  checkMatrix('losses', 'logits', logits);
  if (!Number.isFinite(coef) || coef < 0) {
    throw new MoeRoutingError('losses', `coef must be a finite number >= 0, got ${coef}`);
  }
  return tf.tidy(() => tf.mul(coef, tf.mean(tf.square(tf.logSumExp(logits, 1)))) as tf.Scalar);
}

/**
 * Importance loss `w · CV(Importance)²` of noisy top-k gating ("Outrageously
 * Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer",
 * Shazeer et al., 2017), where `Importance_e = Σ_t gate(t, e)` over the batch:
 * zero when every expert gets the same total gate. Differentiable in the gates.
 */
export function importanceLoss(routing: Routing, weight = 0.01): tf.Scalar {
  if (!Number.isFinite(weight) || weight < 0) {
    throw new MoeRoutingError('losses', `weight must be a finite number >= 0, got ${weight}`);
  }
  return tf.tidy(() => {
    const importance = segmentSum(routing.gates, routing.expertIndex, routing.numExperts);
    const { mean, variance } = tf.moments(importance);
    return tf.mul(weight, tf.div(variance, tf.add(tf.square(mean), 1e-10))) as tf.Scalar;
  });
}
