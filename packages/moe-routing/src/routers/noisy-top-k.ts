import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkMatrix } from '../internal/validate.js';
import {
  checkExpertsAndK,
  checkLogits,
  gatherPairs,
  selectTopK,
  tokenChoiceArrays,
  tokenChoiceRouting,
} from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createNoisyTopKRouter}. */
export interface NoisyTopKRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Experts per token. */
  readonly k: number;
  /** Seed of the noise stream; each `route` call draws fresh noise from it. */
  readonly seed: number;
}

/**
 * Noisy top-k gating ("Outrageously Large Neural Networks: The
 * Sparsely-Gated Mixture-of-Experts Layer", Shazeer et al., 2017):
 * `H = x·W_g + ε ⊙ softplus(x·W_noise)`, `G = softmax(KeepTopK(H, k))`, with
 * ε standard normal in training and zero at inference. Differentiable in both
 * logits for a fixed draw of ε.
 */
export function createNoisyTopKRouter(settings: NoisyTopKRouterSettings): RouterV1 {
  const name = 'noisy-top-k';
  const { numExperts, k } = settings;
  checkExpertsAndK(name, numExperts, k);
  if (!Number.isFinite(settings.seed))
    throw new MoeRoutingError(name, `seed must be a finite number, got ${settings.seed}`);
  const rng = new SeededRandom(settings.seed);
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    k,
    causal: true,
    needsNoiseLogits: true,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, numExperts);
      const training = input.training ?? true;
      if (training) {
        if (!input.noiseLogits) {
          throw new MoeRoutingError(
            name,
            'training needs noiseLogits (x · W_noise) of shape [tokens, experts]',
          );
        }
        checkMatrix(name, 'noiseLogits', input.noiseLogits, numExperts, numTokens);
      }
      const eps = training ? rng.fillNormal(new Float32Array(numTokens * numExperts)) : undefined;
      const out = tf.tidy(() => {
        const h =
          eps && input.noiseLogits
            ? tf.add(
                input.logits,
                tf.mul(tf.tensor2d(eps, [numTokens, numExperts]), tf.softplus(input.noiseLogits)),
              )
            : input.logits;
        const probs = tf.softmax(h) as tf.Tensor2D;
        const selected = selectTopK(h as tf.Tensor2D, k);
        const arrays = tokenChoiceArrays(selected, numTokens, k);
        const kept = tf.reshape(gatherPairs(h as tf.Tensor2D, arrays.tokenIndex, selected), [
          numTokens,
          k,
        ]);
        const gates = tf.reshape(tf.softmax(kept), [numTokens * k]) as tf.Tensor1D;
        return { tensors: { gates, probs }, arrays };
      });
      return tokenChoiceRouting({ numTokens, numExperts, numRoutedExperts: numExperts, k }, out);
    },
  };
}
