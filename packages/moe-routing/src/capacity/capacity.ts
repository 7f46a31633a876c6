import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { gatherRows } from '../internal/gather.js';
import { checkInt, checkPositive } from '../internal/validate.js';
import type { Routing } from '../routers/types.js';

/**
 * Which assignments claim an expert's slots first when it is over capacity.
 * `gshard`: all first choices in token order, then all second choices, …
 * (GShard's position-in-expert cumsum; for top-1 this is Switch's order).
 * `batch-prioritized`: the same choice-major passes, but inside each pass
 * tokens go in decreasing order of their top gate, so confident tokens are
 * kept (Batch Prioritized Routing, "Scaling Vision with Sparse Mixture of
 * Experts", Riquelme et al., 2021).
 */
export type DropOrder = 'gshard' | 'batch-prioritized';

/** Settings of {@link applyCapacity}. */
export interface CapacitySettings {
  /** Slots per expert are `ceil(capacityFactor · T · k / E)` (E routed experts). Must be > 0. */
  readonly capacityFactor: number;
  /** Overrides the computed slots per expert. */
  readonly capacity?: number;
  /** Drop order; default `gshard`. */
  readonly order?: DropOrder;
}

/** A routing cut to capacity, with the slot each kept assignment occupies. */
export interface CapacityResult {
  /** The kept assignments (new gates tensor and a clone of `probs`; the caller disposes both). */
  readonly routing: Routing;
  /** Slot of each kept assignment inside its expert, in `[0, capacity)` (shared experts: in `[0, T)`). */
  readonly slot: Int32Array;
  /** Slots per routed expert. */
  readonly capacity: number;
  /** Index, in the input routing, of each kept assignment. */
  readonly kept: Int32Array;
  /** Assignments dropped for lack of room. */
  readonly droppedAssignments: number;
  /** Tokens that lost every routed assignment (their output is zero; a residual carries them). */
  readonly droppedTokens: number;
}

/** Slots per expert for a capacity factor: `ceil(factor · T · k / E)`, at least 1. */
export function expertCapacity(
  capacityFactor: number,
  numTokens: number,
  k: number,
  numExperts: number,
): number {
  checkPositive('capacity', 'capacityFactor', capacityFactor);
  return Math.max(1, Math.ceil((capacityFactor * numTokens * k) / numExperts));
}

/**
 * Token dropping with a capacity factor (GShard, Switch Transformers): each
 * routed expert takes at most `capacity` assignments in the chosen
 * {@link DropOrder}; the rest are dropped. Shared experts (DeepSeekMoE) are
 * never dropped. Expert-choice routings are refused: their capacity is built in.
 */
export function applyCapacity(routing: Routing, settings: CapacitySettings): CapacityResult {
  if (!routing.tokenChoice) {
    throw new MoeRoutingError(
      'capacity',
      'expected a token-choice routing; expert-choice routing already fixes tokens per expert (set its capacityFactor instead)',
    );
  }
  const order = settings.order ?? 'gshard';
  if (order !== 'gshard' && order !== 'batch-prioritized') {
    throw new MoeRoutingError(
      'capacity',
      `order must be 'gshard' or 'batch-prioritized', got ${String(order)}`,
    );
  }
  const { numTokens, numRoutedExperts, tokenIndex, expertIndex, choiceRank } = routing;
  const capacity =
    settings.capacity ??
    expertCapacity(settings.capacityFactor, numTokens, routing.k, numRoutedExperts);
  checkInt('capacity', 'capacity', capacity, 1);
  const sequence = processingOrder(routing, order);
  const fill = new Int32Array(routing.numExperts);
  const slotOf = new Int32Array(tokenIndex.length).fill(-1);
  for (const a of sequence) {
    const e = expertIndex[a]!;
    if (e >= numRoutedExperts || fill[e]! < capacity) slotOf[a] = fill[e]!++;
  }
  const keptList: number[] = [];
  const survived = new Uint8Array(numTokens);
  const hadRouted = new Uint8Array(numTokens);
  for (let a = 0; a < tokenIndex.length; a++) {
    const routed = expertIndex[a]! < numRoutedExperts;
    if (routed) hadRouted[tokenIndex[a]!] = 1;
    if (slotOf[a]! >= 0) {
      keptList.push(a);
      if (routed) survived[tokenIndex[a]!] = 1;
    }
  }
  let droppedTokens = 0;
  for (let t = 0; t < numTokens; t++) if (hadRouted[t] && !survived[t]) droppedTokens++;
  const kept = Int32Array.from(keptList);
  const pick = (src: Int32Array): Int32Array => kept.map((a) => src[a]!);
  const tensors = tf.tidy(() => ({
    gates: gatherRows(routing.gates, kept),
    probs: tf.clone(routing.probs),
  }));
  return {
    routing: {
      ...routing,
      tokenIndex: pick(tokenIndex),
      expertIndex: pick(expertIndex),
      choiceRank: pick(choiceRank),
      gates: tensors.gates,
      probs: tensors.probs,
    },
    slot: pick(slotOf),
    capacity,
    kept,
    droppedAssignments: tokenIndex.length - kept.length,
    droppedTokens,
  };
}

/** Assignment indices in the order they claim slots. */
function processingOrder(routing: Routing, order: DropOrder): number[] {
  const { tokenIndex, choiceRank } = routing;
  const idx = Array.from({ length: tokenIndex.length }, (_, a) => a);
  if (order === 'gshard') {
    return idx.sort((a, b) => choiceRank[a]! - choiceRank[b]! || tokenIndex[a]! - tokenIndex[b]!);
  }
  // Priority of a token: its largest gate over routed experts.
  const gates = routing.gates.dataSync();
  const priority = new Float64Array(routing.numTokens).fill(Number.NEGATIVE_INFINITY);
  for (let a = 0; a < tokenIndex.length; a++) {
    if (routing.expertIndex[a]! >= routing.numRoutedExperts) continue;
    const t = tokenIndex[a]!;
    if (gates[a]! > priority[t]!) priority[t] = gates[a]!;
  }
  return idx.sort(
    (a, b) =>
      choiceRank[a]! - choiceRank[b]! ||
      priority[tokenIndex[b]!]! - priority[tokenIndex[a]!]! ||
      tokenIndex[a]! - tokenIndex[b]!,
  );
}
