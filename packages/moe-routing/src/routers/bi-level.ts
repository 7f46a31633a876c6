import * as tf from '@tensorflow/tfjs-core';
import { checkInt } from '../internal/validate.js';
import { checkLogits, gatherPairs } from './common.js';
import type { RouterInput, RouterV1, Routing } from './types.js';

/** Settings of {@link createBiLevelRouter}. */
export interface BiLevelRouterSettings {
  /** Hosts (nodes) H. */
  readonly numHosts: number;
  /** Experts on each host G; experts are numbered `host · G + local`. */
  readonly expertsPerHost: number;
}

/**
 * Bi-level routing as SMILE does it ("SMILE: Scaling Mixture-of-Experts with
 * Efficient Bi-level Routing", He et al., 2022): a token first picks a host
 * (top-1 of a softmax over H host logits), then an expert inside that host
 * (top-1 of a softmax over the host's G expert logits), so the expensive
 * inter-host all-to-all only carries one choice among H. The gate is the
 * joint probability `p(host) · p(expert | host)`, and `probs` is that joint
 * distribution over all H·G experts (so the Switch balancing loss applies).
 * Logits are `[T, H + H·G]`: host logits first, then expert logits host by
 * host (`logitsWidth`).
 */
export function createBiLevelRouter(settings: BiLevelRouterSettings): RouterV1 {
  const name = 'bi-level';
  const { numHosts, expertsPerHost } = settings;
  checkInt(name, 'numHosts', numHosts, 1);
  checkInt(name, 'expertsPerHost', expertsPerHost, 1);
  const numExperts = numHosts * expertsPerHost;
  const logitsWidth = numHosts + numExperts;
  return {
    specificationVersion: 'v1',
    name,
    numExperts,
    numRoutedExperts: numExperts,
    logitsWidth,
    k: 1,
    causal: true,
    needsNoiseLogits: false,
    route(input: RouterInput): Routing {
      const numTokens = checkLogits(name, input, logitsWidth);
      const out = tf.tidy(() => {
        const hostP = tf.softmax(tf.slice(input.logits, [0, 0], [numTokens, numHosts]));
        const local = tf.reshape(tf.slice(input.logits, [0, numHosts], [numTokens, numExperts]), [
          numTokens,
          numHosts,
          expertsPerHost,
        ]);
        const localP = tf.softmax(local);
        const joint = tf.reshape(tf.mul(tf.expandDims(hostP, 2), localP), [
          numTokens,
          numExperts,
        ]) as tf.Tensor2D;
        const hp = hostP.dataSync();
        const lp = localP.dataSync();
        const tokenIndex = new Int32Array(numTokens);
        const expertIndex = new Int32Array(numTokens);
        for (let t = 0; t < numTokens; t++) {
          const host = argmax(hp, t * numHosts, numHosts);
          const inner = argmax(lp, (t * numHosts + host) * expertsPerHost, expertsPerHost);
          tokenIndex[t] = t;
          expertIndex[t] = host * expertsPerHost + inner;
        }
        const gates = gatherPairs(joint, tokenIndex, expertIndex);
        return { tensors: { gates, probs: joint }, arrays: { tokenIndex, expertIndex } };
      });
      return {
        numTokens,
        numExperts,
        numRoutedExperts: numExperts,
        k: 1,
        tokenChoice: true,
        tokenIndex: out.arrays.tokenIndex,
        expertIndex: out.arrays.expertIndex,
        choiceRank: new Int32Array(numTokens),
        top1: out.arrays.expertIndex.slice(),
        gates: out.tensors.gates,
        probs: out.tensors.probs,
      };
    },
  };
}

/** Index of the largest of `n` values from `offset` (ties: lower index). */
function argmax(data: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (data[offset + i]! > data[offset + best]!) best = i;
  return best;
}
