import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
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

/** Settings of {@link createDeepSeekMoERouter}. */
export interface DeepSeekMoERouterSettings {
  /** Routed (fine-grained) experts, `m·N` for N original experts split m ways. */
  readonly numRoutedExperts: number;
  /** Shared experts every token uses, numbered after the routed ones. */
  readonly numSharedExperts: number;
  /** Routed experts per token, `m·K − numSharedExperts` in the paper's notation. */
  readonly k: number;
  /** Bias-based auxiliary-loss-free balancing (selection only). */
  readonly balancer?: LossFreeBalancer;
}

/**
 * DeepSeekMoE routing ("DeepSeekMoE: Towards Ultimate Expert Specialization
 * in Mixture-of-Experts Language Models", Dai et al., 2024): many small
 * (fine-grained) routed experts, of which each token takes the top k with
 * gate `s = softmax(u·e)` (not renormalised), plus shared experts that every
 * token uses with gate 1. Shared experts are numbered
 * `numRoutedExperts … numRoutedExperts + numSharedExperts − 1`, and capacity
 * limits never drop them.
 */
export function createDeepSeekMoERouter(settings: DeepSeekMoERouterSettings): RouterV1 {
  const name = 'deepseek-moe';
  const { numRoutedExperts, numSharedExperts, k, balancer } = settings;
  checkExpertsAndK(name, numRoutedExperts, k);
  checkInt(name, 'numSharedExperts', numSharedExperts, 0);
  if (balancer && balancer.bias.length !== numRoutedExperts) {
    throw new MoeRoutingError(
      name,
      `balancer must have ${numRoutedExperts} experts, got ${balancer.bias.length}`,
    );
  }
  const numExperts = numRoutedExperts + numSharedExperts;
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts,
    k,
    causal: true,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, numRoutedExperts);
      const out = tf.tidy(() => {
        const probs = tf.softmax(input.logits) as tf.Tensor2D;
        const selected = selectTopK(probs, k, balancer);
        const routed = tokenChoiceArrays(selected, numTokens, k);
        const routedGates = gatherPairs(probs, routed.tokenIndex, selected);
        const shared = numTokens * numSharedExperts;
        const total = routed.tokenIndex.length + shared;
        const tokenIndex = new Int32Array(total);
        const expertIndex = new Int32Array(total);
        const choiceRank = new Int32Array(total);
        tokenIndex.set(routed.tokenIndex);
        expertIndex.set(selected);
        choiceRank.set(routed.choiceRank);
        let a = routed.tokenIndex.length;
        for (let t = 0; t < numTokens; t++) {
          for (let s = 0; s < numSharedExperts; s++, a++) {
            tokenIndex[a] = t;
            expertIndex[a] = numRoutedExperts + s;
            choiceRank[a] = k + s;
          }
        }
        const gates = shared > 0 ? tf.concat([routedGates, tf.ones([shared])]) : routedGates;
        return {
          tensors: { gates: gates as tf.Tensor1D, probs },
          arrays: { tokenIndex, expertIndex, choiceRank, top1: routed.top1 },
        };
      });
      return tokenChoiceRouting({ numTokens, numExperts, numRoutedExperts, k }, out);
    },
  };
}
