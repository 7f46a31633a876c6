import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import type { RoutingStats } from '../losses/stats.js';
import type { ExpertParams } from './experts.js';
import type { MoEConfig, MoEForwardOptions } from './moe.js';
import { initMoEParams, moeForward } from './moe.js';

/** Parameters of a Chain-of-Experts block: one router per iteration, experts shared. */
export interface ChainOfExpertsParams {
  /** Router projection of each iteration. */
  readonly routerWeights: readonly tf.Tensor[];
  /** Experts, shared by every iteration. */
  readonly experts: readonly ExpertParams[];
}

/** What {@link chainOfExpertsForward} returns; the caller owns the tensors. */
export interface ChainOfExpertsResult {
  /** `[T, D]` output of the last iteration. */
  readonly output: tf.Tensor2D;
  /** Sum of the iterations' balancing losses. */
  readonly auxLoss: tf.Scalar;
  /** Sum of the iterations' z-losses. */
  readonly zLoss: tf.Scalar;
  /** Statistics of each iteration. */
  readonly stats: readonly RoutingStats[];
}

/** Seeded parameters: `iterations` routers and one expert set. */
export function initChainOfExpertsParams(
  config: MoEConfig,
  iterations: number,
  seed: number,
): ChainOfExpertsParams {
  checkInt('chain-of-experts', 'iterations', iterations, 1);
  if (config.router.needsNoiseLogits) {
    throw new MoeRoutingError(
      'chain-of-experts',
      'expected a router without noise logits (noisy top-k is not supported here)',
    );
  }
  const sets = Array.from({ length: iterations }, (_, i) => initMoEParams(config, seed + i));
  const routerWeights = sets.map((p) => p.routerWeight);
  for (const p of sets.slice(1))
    for (const e of p.experts) for (const t of Object.values(e)) (t as tf.Tensor).dispose();
  return { routerWeights, experts: sets[0]!.experts };
}

/**
 * Chain-of-Experts ("Chain-of-Experts: Unlocking the Communication Power of
 * Mixture-of-Experts Models", Wang et al., 2025): the same experts are applied
 * C times in sequence, each iteration with its own router reading the
 * previous iteration's output, with a residual between iterations:
 * `x⁽¹⁾ = MoE₁(x)`, `x⁽ᵗ⁾ = MoEₜ(x⁽ᵗ⁻¹⁾) + x⁽ᵗ⁻¹⁾`. Tokens thus meet experts
 * chosen with knowledge of earlier experts' outputs.
 */
export function chainOfExpertsForward(
  config: MoEConfig,
  params: ChainOfExpertsParams,
  x: tf.Tensor2D,
  options: MoEForwardOptions = {},
): ChainOfExpertsResult {
  if (params.routerWeights.length === 0) {
    throw new MoeRoutingError(
      'chain-of-experts',
      'expected at least one router weight (one per iteration)',
    );
  }
  const stats: RoutingStats[] = [];
  const tensors = tf.tidy(() => {
    let h: tf.Tensor2D = x;
    const aux: tf.Scalar[] = [];
    const z: tf.Scalar[] = [];
    params.routerWeights.forEach((routerWeight, t) => {
      const r = moeForward(config, { routerWeight, experts: params.experts }, h, options);
      stats.push(r.stats);
      aux.push(r.auxLoss);
      z.push(r.zLoss);
      h = t === 0 ? r.output : (tf.add(r.output, h) as tf.Tensor2D);
    });
    return { output: h, auxLoss: tf.addN(aux) as tf.Scalar, zLoss: tf.addN(z) as tf.Scalar };
  });
  return { ...tensors, stats };
}
