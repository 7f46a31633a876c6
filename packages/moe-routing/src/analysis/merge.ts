import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt, checkMatrix } from '../internal/validate.js';
import type { ExpertActivation, ExpertParams } from '../layer/experts.js';
import { expertForward } from '../layer/experts.js';
import type { Routing } from '../routers/types.js';

/** Settings of {@link mergeExpertsByClustering}. */
export interface MergeSettings {
  /** The experts to merge. */
  readonly experts: readonly ExpertParams[];
  /** Their MLP kind. */
  readonly activation: ExpertActivation;
  /** Calibration tokens `[N, D]`; experts are compared by their mean output on them. */
  readonly calibration: tf.Tensor2D;
  /** Experts left after merging. */
  readonly numClusters: number;
  /** Merge weights per expert (e.g. routing frequency on the calibration set); default uniform. */
  readonly usage?: ArrayLike<number>;
}

/** Result of {@link mergeExpertsByClustering}; the caller owns `merged`. */
export interface MergeResult {
  /** Original experts of each merged expert, ascending, clusters ordered by first member. */
  readonly clusters: number[][];
  /** Merged expert of each original expert (use with {@link remapRouting}). */
  readonly expertMap: Int32Array;
  /** One usage-weighted average expert per cluster. */
  readonly merged: ExpertParams[];
}

/**
 * Retraining-free expert merging as HC-SMoE does it ("Retraining-Free
 * Merging of Sparse MoE via Hierarchical Clustering", Chen et al., 2025):
 * represent each expert by its mean output on calibration tokens, cluster
 * the experts by agglomerative clustering with average linkage (Euclidean),
 * and replace each cluster by the usage-weighted average of its members'
 * weights. The router is kept; route through {@link remapRouting}.
 */
export function mergeExpertsByClustering(settings: MergeSettings): MergeResult {
  const { experts, activation, calibration, numClusters } = settings;
  checkInt('merge', 'numClusters', numClusters, 1, Math.max(1, experts.length));
  checkMatrix('merge', 'calibration', calibration);
  const n = experts.length;
  const usage = settings.usage ?? new Float64Array(n).fill(1);
  if (usage.length !== n)
    throw new MoeRoutingError(
      'merge',
      `usage must have one entry per expert (${n}), got ${usage.length}`,
    );
  const reps = experts.map((p) =>
    tf.tidy(() => tf.mean(expertForward(p, activation, calibration), 0).dataSync()),
  );
  const dist = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < reps[a]!.length; i++) s += (reps[a]![i]! - reps[b]![i]!) ** 2;
    return Math.sqrt(s);
  };
  let clusters: number[][] = Array.from({ length: n }, (_, i) => [i]);
  while (clusters.length > numClusters) {
    let best: [number, number, number] = [Number.POSITIVE_INFINITY, 0, 1];
    for (let a = 0; a < clusters.length; a++) {
      for (let b = a + 1; b < clusters.length; b++) {
        let sum = 0;
        for (const i of clusters[a]!) for (const j of clusters[b]!) sum += dist(i, j);
        const d = sum / (clusters[a]!.length * clusters[b]!.length);
        if (d < best[0]) best = [d, a, b];
      }
    }
    const [, a, b] = best;
    clusters[a] = [...clusters[a]!, ...clusters[b]!].sort((x, y) => x - y);
    clusters = clusters.filter((_, i) => i !== b);
  }
  clusters.sort((x, y) => x[0]! - y[0]!);
  const expertMap = new Int32Array(n);
  clusters.forEach((members, c) => {
    for (const e of members) expertMap[e] = c;
  });
  const merged = clusters.map((members) =>
    averageExperts(
      members.map((e) => experts[e]!),
      members.map((e) => usage[e]!),
    ),
  );
  return { clusters, expertMap, merged };
}

function averageExperts(
  members: readonly ExpertParams[],
  weights: readonly number[],
): ExpertParams {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0))
    throw new MoeRoutingError('merge', 'usage weights of a cluster must sum to > 0');
  const avg = (key: keyof ExpertParams): tf.Tensor | undefined =>
    members[0]![key] === undefined
      ? undefined
      : tf.tidy(() => tf.addN(members.map((p, i) => tf.mul(p[key]!, weights[i]! / total))));
  const out: Record<string, tf.Tensor> = {};
  for (const key of ['w1', 'w2', 'w3', 'b1', 'b2'] as const) {
    const t = avg(key);
    if (t) out[key] = t;
  }
  return out as unknown as ExpertParams;
}

/**
 * A routing whose experts are replaced by their merged expert: same tokens,
 * gates and probabilities (cloned, so the caller disposes both), expert ids
 * mapped through `expertMap`. Two choices of one token that land on the same
 * merged expert add their gates.
 */
export function remapRouting(routing: Routing, expertMap: Int32Array, numMerged: number): Routing {
  if (expertMap.length !== routing.numExperts) {
    throw new MoeRoutingError(
      'merge',
      `expertMap must have ${routing.numExperts} entries, got ${expertMap.length}`,
    );
  }
  return {
    ...routing,
    numExperts: numMerged,
    expertIndex: routing.expertIndex.map((e) => expertMap[e]!),
    gates: tf.clone(routing.gates),
    probs: tf.clone(routing.probs),
  };
}
