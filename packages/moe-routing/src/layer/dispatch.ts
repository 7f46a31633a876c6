import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { CapacityResult } from '../capacity/capacity.js';
import { gatherRows } from '../internal/gather.js';
import type { Routing } from '../routers/types.js';

/** An expert as a function of its `[n, D]` input rows. */
export type ExpertFn = (expert: number, x: tf.Tensor2D) => tf.Tensor2D;

/**
 * Dropless dispatch as MegaBlocks does it ("MegaBlocks: Efficient Sparse
 * Training with Mixture-of-Experts", Gale et al., 2022): sort assignments by
 * expert, gather their rows once, run one matmul chain per non-empty expert
 * group on exactly its rows (no padding, nothing dropped), scale by the gates
 * and sum back per token. Output `[T, outDim]`.
 */
export function dispatchDropless(
  x: tf.Tensor2D,
  routing: Routing,
  expert: ExpertFn,
  outDim: number,
): tf.Tensor2D {
  const { perm, counts } = sortByExpert(routing.expertIndex, routing.numExperts);
  const tokens = perm.map((a) => routing.tokenIndex[a]!);
  return tf.tidy(() => {
    if (perm.length === 0) return tf.zeros([routing.numTokens, outDim]) as tf.Tensor2D;
    const xs = gatherRows(x, tokens);
    const pieces: tf.Tensor2D[] = [];
    let offset = 0;
    for (let e = 0; e < counts.length; e++) {
      const n = counts[e]!;
      if (n === 0) continue;
      // Experts are contiguous after the sort: a slice is a view-sized copy, not a padded block.
      const rows = n === perm.length ? xs : tf.slice(xs, [offset, 0], [n, x.shape[1]]);
      pieces.push(expert(e, rows));
      offset += n;
    }
    const ys = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 0);
    const gates = gatherRows(routing.gates, perm);
    return segmentSum(
      tf.mul(ys, tf.expandDims(gates, 1)),
      tokens,
      routing.numTokens,
    ) as tf.Tensor2D;
  });
}

/**
 * Capacity-padded dispatch (GShard / Switch): every expert gets a fixed
 * `[C, D]` block (empty slots are zero rows), all experts run as one batched
 * matmul, and the kept assignments are gathered back and combined. Shared
 * experts (which are never dropped) get `max(C, T)` slots.
 */
export function dispatchPadded(
  x: tf.Tensor2D,
  capped: CapacityResult,
  experts: (xs: tf.Tensor3D) => tf.Tensor3D,
  outDim: number,
): tf.Tensor2D {
  const { routing, slot } = capped;
  const { numTokens, numExperts, numRoutedExperts } = routing;
  const slots =
    numExperts > numRoutedExperts ? Math.max(capped.capacity, numTokens) : capped.capacity;
  const gatherIdx = new Int32Array(numExperts * slots).fill(numTokens);
  const rowOf = new Int32Array(routing.tokenIndex.length);
  for (let a = 0; a < rowOf.length; a++) {
    rowOf[a] = routing.expertIndex[a]! * slots + slot[a]!;
    gatherIdx[rowOf[a]!] = routing.tokenIndex[a]!;
  }
  return tf.tidy(() => {
    const d = x.shape[1];
    const padded = tf.concat([x, tf.zeros([1, d])], 0);
    const xs = tf.reshape(gatherRows(padded as tf.Tensor2D, gatherIdx), [numExperts, slots, d]);
    const ys = tf.reshape(experts(xs as tf.Tensor3D), [numExperts * slots, outDim]);
    if (rowOf.length === 0) return tf.zeros([numTokens, outDim]) as tf.Tensor2D;
    const picked = gatherRows(ys as tf.Tensor2D, rowOf);
    const weighted = tf.mul(picked, tf.expandDims(routing.gates, 1));
    return segmentSum(weighted as tf.Tensor2D, routing.tokenIndex, numTokens);
  });
}

/** Stable counting sort of assignments by expert: permutation and group sizes. */
export function sortByExpert(
  expertIndex: Int32Array,
  numExperts: number,
): { perm: Int32Array; counts: Int32Array } {
  const counts = new Int32Array(numExperts);
  for (const e of expertIndex) counts[e]! += 1;
  const start = new Int32Array(numExperts);
  for (let e = 1; e < numExperts; e++) start[e] = start[e - 1]! + counts[e - 1]!;
  const perm = new Int32Array(expertIndex.length);
  for (let a = 0; a < expertIndex.length; a++) perm[start[expertIndex[a]!]!++] = a;
  return { perm, counts };
}
