import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { gatherRows } from '../internal/gather.js';
import {
  checkExpertsAndK,
  checkLogits,
  gatherPairs,
  selectTopK,
  tokenChoiceRouting,
} from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createGShardRouter}. */
export interface GShardRouterSettings {
  /** Routed experts E (at least 2). */
  readonly numExperts: number;
  /** Seed of the second-expert dispatch draws. */
  readonly seed: number;
}

/**
 * GShard top-2 gating with random second-expert dispatch ("GShard: Scaling
 * Giant Models with Conditional Computation and Automatic Sharding",
 * Lepikhin et al., 2020): gates are the top-2 softmax probabilities
 * normalised to sum to 1; in training the second expert is used only with
 * probability `min(1, 2·g2)`, so tokens with a confident first choice mostly
 * skip it. A token whose second expert is skipped keeps gate g1 (as in the
 * paper, the first gate is not renormalised).
 */
export function createGShardRouter(settings: GShardRouterSettings): RouterV1 {
  const name = 'gshard';
  const { numExperts } = settings;
  checkExpertsAndK(name, numExperts, 2);
  if (!Number.isFinite(settings.seed))
    throw new MoeRoutingError(name, `seed must be a finite number, got ${settings.seed}`);
  const rng = new SeededRandom(settings.seed);
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    k: 2,
    causal: true,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, numExperts);
      const training = input.training ?? true;
      const out = tf.tidy(() => {
        const probs = tf.softmax(input.logits) as tf.Tensor2D;
        const selected = selectTopK(probs, 2);
        const tokens = new Int32Array(numTokens * 2);
        for (let a = 0; a < tokens.length; a++) tokens[a] = a >> 1;
        const rows = tf.reshape(gatherPairs(probs, tokens, selected), [numTokens, 2]);
        const normalised = tf.div(rows, tf.sum(rows, 1, true));
        const g = normalised.dataSync();
        // Keep list: all first choices; second choices that win the draw.
        const keep: number[] = [];
        for (let t = 0; t < numTokens; t++) {
          keep.push(2 * t);
          const u = training ? rng.uniform() : 0;
          if (!training || u < 2 * g[2 * t + 1]!) keep.push(2 * t + 1);
        }
        const keepIdx = Int32Array.from(keep);
        const gates = gatherRows(tf.reshape(normalised, [numTokens * 2]) as tf.Tensor1D, keepIdx);
        const tokenIndex = new Int32Array(keepIdx.length);
        const expertIndex = new Int32Array(keepIdx.length);
        const choiceRank = new Int32Array(keepIdx.length);
        keepIdx.forEach((a, i) => {
          tokenIndex[i] = a >> 1;
          expertIndex[i] = selected[a]!;
          choiceRank[i] = a & 1;
        });
        const top1 = new Int32Array(numTokens);
        for (let t = 0; t < numTokens; t++) top1[t] = selected[2 * t]!;
        return { tensors: { gates, probs }, arrays: { tokenIndex, expertIndex, choiceRank, top1 } };
      });
      return tokenChoiceRouting({ numTokens, numExperts, numRoutedExperts: numExperts, k: 2 }, out);
    },
  };
}
