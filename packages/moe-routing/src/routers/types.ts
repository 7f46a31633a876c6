import type * as tf from '@tensorflow/tfjs-core';

/** What a router reads: the router logits, and what some routers need besides. */
export interface RouterInput {
  /** Router logits `x · W_g`, float32 `[T, E]` (E = routed experts). */
  readonly logits: tf.Tensor2D;
  /** Noise logits `x · W_noise`, `[T, E]`; required by the noisy top-k router in training. */
  readonly noiseLogits?: tf.Tensor2D;
  /** Token ids, length T; required by the hash router. */
  readonly tokenIds?: Int32Array;
  /** Host (node) each token lives on, length T; required by the locality-aware router. */
  readonly tokenHosts?: Int32Array;
  /** Training adds noise (noisy top-k) and random dispatch (GShard); default true. */
  readonly training?: boolean;
  /**
   * True when tokens arrive one step at a time (autoregressive decoding).
   * Non-causal routers (expert-choice) refuse it.
   */
  readonly autoregressive?: boolean;
}

/**
 * A routing decision as a list of A (token, expert) assignments. Indices
 * live on the host, because dispatch needs them there to sort and group;
 * only the gates, which carry the gradient, are a tensor.
 */
export interface Routing {
  /** Number of tokens T. */
  readonly numTokens: number;
  /** Number of experts (routed plus shared). */
  readonly numExperts: number;
  /** Number of routed experts over which `probs` is defined. */
  readonly numRoutedExperts: number;
  /** Routed experts per token (`capacityFactor` for expert-choice). */
  readonly k: number;
  /** False for expert-choice routing, where experts pick tokens and capacity is built in. */
  readonly tokenChoice: boolean;
  /** Token of each assignment, length A. */
  readonly tokenIndex: Int32Array;
  /** Expert of each assignment, length A. */
  readonly expertIndex: Int32Array;
  /**
   * Rank of the choice: 0 for a token's first expert, 1 for its second…;
   * for expert-choice routing, the token's rank inside its expert.
   */
  readonly choiceRank: Int32Array;
  /** Combine weight of each assignment, float32 `[A]`, differentiable. */
  readonly gates: tf.Tensor1D;
  /** Router probabilities over routed experts, `[T, E]` (for the balancing loss). */
  readonly probs: tf.Tensor2D;
  /** Top-1 expert of each token before any drop (for the Switch load fraction). */
  readonly top1: Int32Array;
}

/** The versioned router interface every factory returns. */
export interface RouterV1 {
  /** Interface version; bumped on breaking changes. */
  readonly specificationVersion: 'v1';
  /** Router kind, e.g. `top-k`, `switch`. */
  readonly name: string;
  /** Total experts a routing may name (routed plus shared). */
  readonly numExperts: number;
  /** Routed experts (the width of `probs`). */
  readonly numRoutedExperts: number;
  /** Width of the logits `route` expects when it is not `numRoutedExperts` (bi-level routing). */
  readonly logitsWidth?: number;
  /** Expert choices per token (for expert-choice: the mean, `capacityFactor`). */
  readonly k: number;
  /** False when a token's routing depends on later tokens (expert-choice). */
  readonly causal: boolean;
  /** True when `route` needs `noiseLogits` in training. */
  readonly needsNoiseLogits: boolean;
  /** Route a batch of tokens. The caller owns (and disposes) the returned tensors. */
  route(input: RouterInput): Routing;
}

/** Dispose the tensors of a routing. */
export function disposeRouting(routing: Routing): void {
  routing.gates.dispose();
  routing.probs.dispose();
}
