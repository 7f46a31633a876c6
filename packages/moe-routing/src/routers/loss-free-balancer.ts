import { MoeRoutingError } from '../errors.js';
import { checkInt, checkPositive } from '../internal/validate.js';

/** Settings of {@link createLossFreeBalancer}. */
export interface LossFreeBalancerSettings {
  /** Routed experts. */
  readonly numExperts: number;
  /** Bias step `u` per update; the paper uses 1e-3. */
  readonly updateRate?: number;
}

/**
 * Per-expert selection bias for auxiliary-loss-free load balancing
 * ("Auxiliary-Loss-Free Load Balancing Strategy for Mixture-of-Experts",
 * Wang et al., 2024). The bias is added to the routing scores only to choose
 * the top-k experts; gates still come from the unbiased scores, so the bias
 * steers load without a gradient that fights the language-model loss.
 */
export interface LossFreeBalancer {
  /** Current bias, one entry per routed expert (mutable state, read it, don't write it). */
  readonly bias: Float32Array;
  /** `b_i += u · sign(mean load − load_i)`: raise under-loaded experts, lower over-loaded ones. */
  update(load: ArrayLike<number>): void;
}

/** A {@link LossFreeBalancer} starting at zero bias. */
export function createLossFreeBalancer(settings: LossFreeBalancerSettings): LossFreeBalancer {
  checkInt('loss-free-balancer', 'numExperts', settings.numExperts, 1);
  const rate = settings.updateRate ?? 1e-3;
  checkPositive('loss-free-balancer', 'updateRate', rate);
  const bias = new Float32Array(settings.numExperts);
  return {
    bias,
    update(load) {
      if (load.length !== bias.length) {
        throw new MoeRoutingError(
          'loss-free-balancer',
          `load must have one entry per routed expert (${bias.length}), got ${load.length}`,
        );
      }
      let mean = 0;
      for (let i = 0; i < load.length; i++) mean += load[i]!;
      mean /= load.length;
      for (let i = 0; i < bias.length; i++) bias[i]! += rate * Math.sign(mean - load[i]!);
    },
  };
}
