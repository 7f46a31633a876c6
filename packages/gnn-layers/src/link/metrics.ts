import { GnnLayersError } from '../errors.js';

/**
 * ROC AUC of positive vs negative scores (ties count one half), an evaluation
 * metric of "Neural Common Neighbor with Completion for Link Prediction"
 * (Wang, Yang, Zhang, ICLR 2024). O((P + Q) log(P + Q)).
 */
export function linkAuc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  if (positive.length === 0 || negative.length === 0) {
    throw new GnnLayersError('link-metrics', 'AUC needs at least one positive and one negative');
  }
  const all = [
    ...Array.from(positive, (s) => ({ s, pos: true })),
    ...Array.from(negative, (s) => ({ s, pos: false })),
  ].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let k = 0; k < all.length; ) {
    let e = k;
    while (e < all.length && all[e]!.s === all[k]!.s) e++;
    const midRank = (k + 1 + e) / 2;
    for (let t = k; t < e; t++) if (all[t]!.pos) rankSum += midRank;
    k = e;
  }
  const p = positive.length;
  return (rankSum - (p * (p + 1)) / 2) / (p * negative.length);
}

/**
 * Hits@K as OGB defines it and "Neural Common Neighbor with Completion for
 * Link Prediction" (Wang, Yang, Zhang, ICLR 2024) reports it: the fraction of
 * positives scored strictly above the K-th highest negative score (1 when
 * there are fewer than K negatives).
 */
export function hitsAtK(
  positive: ArrayLike<number>,
  negative: ArrayLike<number>,
  k: number,
): number {
  if (!(Number.isInteger(k) && k > 0) || positive.length === 0) {
    throw new GnnLayersError('link-metrics', `Hits@K needs K ≥ 1 and positives, got K = ${k}`);
  }
  if (negative.length < k) return 1;
  const threshold = Array.from(negative).sort((a, b) => b - a)[k - 1]!;
  let hits = 0;
  for (let t = 0; t < positive.length; t++) if (positive[t]! > threshold) hits++;
  return hits / positive.length;
}
