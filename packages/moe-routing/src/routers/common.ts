import { topK } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { gatherRows } from '../internal/gather.js';
import { checkInt, checkMatrix } from '../internal/validate.js';
import type { LossFreeBalancer } from './loss-free-balancer.js';
import type { RouterInput, Routing } from './types.js';

/** Validate router logits `[T, E]` and return T. */
export function checkLogits(module: string, input: RouterInput, numExperts: number): number {
  if (input === null || typeof input !== 'object' || !(input.logits instanceof tf.Tensor)) {
    throw new MoeRoutingError(module, 'route expects { logits: Tensor2D [tokens, experts] }');
  }
  checkMatrix(module, 'logits', input.logits, numExperts);
  return input.logits.shape[0];
}

/** Validate the shared `numExperts` / `k` settings. */
export function checkExpertsAndK(module: string, numExperts: number, k: number): void {
  checkInt(module, 'numExperts', numExperts, 1);
  if (Number.isInteger(k) && k > numExperts) {
    throw new MoeRoutingError(module, `k must be <= numExperts (${numExperts}), got k = ${k}`);
  }
  checkInt(module, 'k', k, 1, numExperts);
}

/**
 * Indices of the k largest `scores (+ bias)` per row, on the host, `[T * k]`
 * row-major. Ties keep the lower expert index (from `topK`).
 */
export function selectTopK(
  scores: tf.Tensor2D,
  k: number,
  balancer?: LossFreeBalancer,
): Int32Array {
  return tf.tidy(() => {
    const biased = balancer ? tf.add(scores, tf.tensor1d(balancer.bias)) : scores;
    const { indices } = topK(biased, k);
    return indices.dataSync() as Int32Array;
  });
}

/** `m[token[a], expert[a]]` for every assignment a, differentiable in `m`. */
export function gatherPairs(m: tf.Tensor2D, tokens: Int32Array, experts: Int32Array): tf.Tensor1D {
  const cols = m.shape[1];
  const flatIdx = new Int32Array(tokens.length);
  for (let a = 0; a < tokens.length; a++) flatIdx[a] = tokens[a]! * cols + experts[a]!;
  return gatherRows(tf.reshape(m, [m.size]) as tf.Tensor1D, flatIdx);
}

/** Token-choice assignment arrays for `[T * k]` selected experts. */
export function tokenChoiceArrays(
  selected: Int32Array,
  numTokens: number,
  k: number,
): { tokenIndex: Int32Array; expertIndex: Int32Array; choiceRank: Int32Array; top1: Int32Array } {
  const tokenIndex = new Int32Array(numTokens * k);
  const choiceRank = new Int32Array(numTokens * k);
  const top1 = new Int32Array(numTokens);
  for (let t = 0; t < numTokens; t++) {
    top1[t] = selected[t * k]!;
    for (let j = 0; j < k; j++) {
      tokenIndex[t * k + j] = t;
      choiceRank[t * k + j] = j;
    }
  }
  return { tokenIndex, expertIndex: selected, choiceRank, top1 };
}

/** Row-wise argmax on the host (ties: lower index). */
export function argmaxRows(m: tf.Tensor2D): Int32Array {
  const [rows, cols] = m.shape;
  const data = m.dataSync();
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** What a token-choice router computes inside its `tidy`: the gate tensors and the host arrays. */
export interface TokenChoiceParts {
  readonly tensors: { readonly gates: tf.Tensor1D; readonly probs: tf.Tensor2D };
  readonly arrays: ReturnType<typeof tokenChoiceArrays>;
}

/** Assemble the `Routing` of a token-choice router (every token picks `k` experts). */
export function tokenChoiceRouting(
  sizes: { numTokens: number; numExperts: number; numRoutedExperts: number; k: number },
  parts: TokenChoiceParts,
): Routing {
  return {
    ...sizes,
    tokenChoice: true,
    ...parts.arrays,
    gates: parts.tensors.gates,
    probs: parts.tensors.probs,
  };
}
