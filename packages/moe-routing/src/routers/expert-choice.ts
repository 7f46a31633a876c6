import { topK } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt, checkPositive } from '../internal/validate.js';
import { argmaxRows, checkLogits } from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createExpertChoiceRouter}. */
export interface ExpertChoiceRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Mean experts per token c; each expert takes `ceil(T·c / E)` tokens (capped at T). */
  readonly capacityFactor: number;
}

/**
 * Expert-choice routing ("Mixture-of-Experts with Expert Choice Routing",
 * Zhou et al., 2022): `S = softmax(X·W_g)`, and each expert picks its
 * top-`C` tokens along the token axis, with gate `S[t, e]`. Load is perfectly
 * balanced and nothing is dropped by capacity, but a token's experts depend
 * on the other tokens of the batch: the router is not causal and refuses
 * autoregressive decoding.
 */
export function createExpertChoiceRouter(settings: ExpertChoiceRouterSettings): RouterV1 {
  const name = 'expert-choice';
  const { numExperts, capacityFactor } = settings;
  checkInt(name, 'numExperts', numExperts, 1);
  checkPositive(name, 'capacityFactor', capacityFactor);
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    k: capacityFactor,
    causal: false,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      if (input?.autoregressive) {
        throw new MoeRoutingError(
          name,
          'expert-choice routing is non-causal (each expert ranks the whole batch) and cannot route autoregressive decoding; expected autoregressive: false, or a token-choice router',
        );
      }
      const numTokens = checkLogits(name, input, numExperts);
      const perExpert = Math.min(numTokens, Math.ceil((numTokens * capacityFactor) / numExperts));
      const out = tf.tidy(() => {
        const probs = tf.softmax(input.logits) as tf.Tensor2D;
        const { values, indices } = topK(tf.transpose(probs) as tf.Tensor2D, perExpert);
        const tokenIndex = Int32Array.from(indices.dataSync());
        const expertIndex = new Int32Array(tokenIndex.length);
        const choiceRank = new Int32Array(tokenIndex.length);
        for (let a = 0; a < tokenIndex.length; a++) {
          expertIndex[a] = Math.floor(a / perExpert);
          choiceRank[a] = a % perExpert;
        }
        const gates = tf.reshape(values, [numExperts * perExpert]) as tf.Tensor1D;
        return {
          tensors: { gates, probs },
          arrays: { tokenIndex, expertIndex, choiceRank, top1: argmaxRows(probs) },
        };
      });
      return {
        numTokens,
        numExperts,
        numRoutedExperts: numExperts,
        k: capacityFactor,
        tokenChoice: false,
        ...out.arrays,
        gates: out.tensors.gates,
        probs: out.tensors.probs,
      };
    },
  };
}
