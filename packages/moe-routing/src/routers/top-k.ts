import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import {
  checkExpertsAndK,
  checkLogits,
  gatherPairs,
  selectTopK,
  tokenChoiceArrays,
  tokenChoiceRouting,
} from './common.js';
import type { LossFreeBalancer } from './loss-free-balancer.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Order of softmax and top-k in {@link createTopKRouter}. */
export type TopKOrder = 'softmax-then-topk' | 'topk-then-softmax';

/** Settings of {@link createTopKRouter}. */
export interface TopKRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Experts per token. */
  readonly k: number;
  /**
   * `softmax-then-topk` (default): softmax over all experts, keep the top k
   * (Mixtral). `topk-then-softmax`: keep the top-k logits, softmax over them
   * (GShard / Shazeer's KeepTopK).
   */
  readonly order?: TopKOrder;
  /** Renormalise the kept probabilities to sum to 1 (softmax-then-topk only); default true. */
  readonly renormalize?: boolean;
  /** Bias-based auxiliary-loss-free balancing (selection only). */
  readonly balancer?: LossFreeBalancer;
}

/**
 * Top-k softmax gating. Softmax-then-top-k with renormalisation is the
 * Mixtral router ("Mixtral of Experts", Jiang et al., 2024); top-k-then-softmax
 * is the GShard / sparsely-gated form ("GShard: Scaling Giant Models with
 * Conditional Computation and Automatic Sharding", Lepikhin et al., 2020).
 * With renormalisation the two give the same gates; without it the kept
 * softmax mass is < 1.
 */
export function createTopKRouter(settings: TopKRouterSettings): RouterV1 {
  return topKRouter('top-k', settings);
}

/** Shared body of the top-k family (top-k, Switch). */
export function topKRouter(name: string, settings: TopKRouterSettings): RouterV1 {
  const { numExperts, k, balancer } = settings;
  checkExpertsAndK(name, numExperts, k);
  const order = settings.order ?? 'softmax-then-topk';
  if (order !== 'softmax-then-topk' && order !== 'topk-then-softmax') {
    throw new MoeRoutingError(
      name,
      `order must be 'softmax-then-topk' or 'topk-then-softmax', got ${String(order)}`,
    );
  }
  const renormalize = settings.renormalize ?? true;
  if (balancer && balancer.bias.length !== numExperts) {
    throw new MoeRoutingError(
      name,
      `balancer must have ${numExperts} experts, got ${balancer.bias.length}`,
    );
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
      const logits = input.logits;
      const out = tf.tidy(() => {
        const probs = tf.softmax(logits);
        const selected = selectTopK(order === 'softmax-then-topk' ? probs : logits, k, balancer);
        const arrays = tokenChoiceArrays(selected, numTokens, k);
        const gates = topKGates(
          order,
          renormalize,
          probs,
          logits,
          arrays.tokenIndex,
          selected,
          numTokens,
          k,
        );
        return { tensors: { gates, probs }, arrays };
      });
      return tokenChoiceRouting({ numTokens, numExperts, numRoutedExperts: numExperts, k }, out);
    },
  };
}

function topKGates(
  order: TopKOrder,
  renormalize: boolean,
  probs: tf.Tensor2D,
  logits: tf.Tensor2D,
  tokens: Int32Array,
  experts: Int32Array,
  numTokens: number,
  k: number,
): tf.Tensor1D {
  if (order === 'topk-then-softmax') {
    const kept = tf.reshape(gatherPairs(logits, tokens, experts), [numTokens, k]);
    return tf.reshape(tf.softmax(kept), [numTokens * k]);
  }
  const kept = gatherPairs(probs, tokens, experts);
  if (!renormalize) return kept;
  const rows = tf.reshape(kept, [numTokens, k]);
  return tf.reshape(tf.div(rows, tf.sum(rows, 1, true)), [numTokens * k]);
}
