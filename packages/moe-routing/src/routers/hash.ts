import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { checkLogits, gatherPairs } from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createHashRouter}. */
export interface HashRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Seed of the hash; different seeds give different fixed token → expert maps. */
  readonly seed?: number;
  /**
   * Combine weight: `one` (default, the paper's form: no gate, so the router
   * learns nothing) or `softmax` (the router probability of the hashed expert,
   * so the layer still trains `W_g`).
   */
  readonly gate?: 'one' | 'softmax';
}

/**
 * Hash routing ("Hash Layers For Large Sparse Models", Roller et al., 2021):
 * each token id goes to a fixed expert chosen by a seeded hash, with no
 * learned routing decision. Needs `tokenIds` in the input.
 */
export function createHashRouter(settings: HashRouterSettings): RouterV1 {
  const name = 'hash';
  const { numExperts } = settings;
  checkInt(name, 'numExperts', numExperts, 1);
  const seed = (settings.seed ?? 0) >>> 0;
  const gateKind = settings.gate ?? 'one';
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    k: 1,
    causal: true,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, numExperts);
      const ids = input.tokenIds;
      if (!ids || ids.length !== numTokens) {
        throw new MoeRoutingError(
          name,
          `hash routing needs tokenIds with one id per token (${numTokens}), got ${ids ? ids.length : 'none'}`,
        );
      }
      const tokenIndex = new Int32Array(numTokens);
      const expertIndex = new Int32Array(numTokens);
      for (let t = 0; t < numTokens; t++) {
        tokenIndex[t] = t;
        expertIndex[t] = hashToExpert(ids[t]!, seed, numExperts);
      }
      const out = tf.tidy(() => {
        const probs = tf.softmax(input.logits) as tf.Tensor2D;
        const gates =
          gateKind === 'softmax'
            ? gatherPairs(probs, tokenIndex, expertIndex)
            : tf.ones([numTokens]);
        return { gates: gates as tf.Tensor1D, probs };
      });
      return {
        numTokens,
        numExperts,
        numRoutedExperts: numExperts,
        k: 1,
        tokenChoice: true,
        tokenIndex,
        expertIndex,
        choiceRank: new Int32Array(numTokens),
        top1: expertIndex.slice(),
        gates: out.gates,
        probs: out.probs,
      };
    },
  };
}

/** murmur3 finaliser of `id ^ seed`, reduced mod E: a fixed, well-mixed map. */
export function hashToExpert(id: number, seed: number, numExperts: number): number {
  let h = (id ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h % numExperts;
}
