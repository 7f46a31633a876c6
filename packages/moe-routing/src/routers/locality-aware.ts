import { topK } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import {
  checkExpertsAndK,
  checkLogits,
  gatherPairs,
  tokenChoiceArrays,
  tokenChoiceRouting,
} from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createLocalityAwareRouter}. */
export interface LocalityAwareRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Experts per token. */
  readonly k: number;
  /** Host of each expert, length E. */
  readonly expertHosts: Int32Array;
  /**
   * Score bonus of experts on the token's own host, added to the softmax
   * probabilities for selection only; default 0.1. Larger values trade
   * routing fidelity for less inter-host traffic.
   */
  readonly localBonus?: number;
}

/**
 * Locality-aware top-k routing, a run-time variant of LocMoE's locality
 * preference ("LocMoE: A Low-overhead MoE for Large Language Model
 * Training", Li et al., 2024): experts on the token's own host get a
 * selection bonus, so near-ties go to local experts and part of the
 * inter-node all-to-all becomes intra-node traffic. Gates remain the
 * renormalised, unbiased softmax probabilities of the chosen experts. The
 * paper itself gets locality from a training loss, not a selection bonus:
 * for its method use `createLocMoERouter` on GrAP logits (`grapGateLogits`)
 * with `localityLoss`, and `expertCapacityLowerBound` for its capacity
 * bound. Needs `tokenHosts` in the input (so `expertParallelForward`, which
 * routes without hosts, cannot use it).
 */
export function createLocalityAwareRouter(settings: LocalityAwareRouterSettings): RouterV1 {
  const name = 'locality-aware';
  const { numExperts, k, expertHosts } = settings;
  checkExpertsAndK(name, numExperts, k);
  if (!(expertHosts instanceof Int32Array) || expertHosts.length !== numExperts) {
    throw new MoeRoutingError(
      name,
      `expertHosts must be an Int32Array with one host per expert (${numExperts})`,
    );
  }
  const bonus = settings.localBonus ?? 0.1;
  if (!Number.isFinite(bonus) || bonus < 0) {
    throw new MoeRoutingError(name, `localBonus must be a finite number >= 0, got ${bonus}`);
  }
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    k,
    causal: true,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, numExperts);
      const hosts = input.tokenHosts;
      if (!hosts || hosts.length !== numTokens) {
        throw new MoeRoutingError(
          name,
          `expected tokenHosts with one host per token (${numTokens}), got ${hosts ? hosts.length : 'none'}`,
        );
      }
      const local = new Float32Array(numTokens * numExperts);
      for (let t = 0; t < numTokens; t++) {
        for (let e = 0; e < numExperts; e++)
          if (expertHosts[e] === hosts[t]) local[t * numExperts + e] = bonus;
      }
      const out = tf.tidy(() => {
        const probs = tf.softmax(input.logits) as tf.Tensor2D;
        const selected = tf.tidy(
          () =>
            topK(
              tf.add(probs, tf.tensor2d(local, [numTokens, numExperts])),
              k,
            ).indices.dataSync() as Int32Array,
        );
        const arrays = tokenChoiceArrays(selected, numTokens, k);
        const rows = tf.reshape(gatherPairs(probs, arrays.tokenIndex, selected), [numTokens, k]);
        const gates = tf.reshape(tf.div(rows, tf.sum(rows, 1, true)), [
          numTokens * k,
        ]) as tf.Tensor1D;
        return { tensors: { gates, probs }, arrays };
      });
      return tokenChoiceRouting({ numTokens, numExperts, numRoutedExperts: numExperts, k }, out);
    },
  };
}

/** Fraction of assignments whose expert lives on the token's host (the intra-node share of the all-to-all). */
export function localAssignmentFraction(
  routing: Routing,
  tokenHosts: Int32Array,
  expertHosts: Int32Array,
): number {
  const n = routing.tokenIndex.length;
  if (n === 0) return 0;
  let local = 0;
  for (let a = 0; a < n; a++)
    if (tokenHosts[routing.tokenIndex[a]!] === expertHosts[routing.expertIndex[a]!]) local++;
  return local / n;
}
