import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import type { RoutingTrace } from './trace.js';
import { checkTrace } from './trace.js';

/**
 * Inter-layer expert affinity ("Exploiting Inter-Layer Expert Affinity for
 * Accelerating Mixture-of-Experts Model Inference", Yao et al., 2024): for
 * each pair of consecutive layers, `P(e_{l+1} = j | e_l = i)` estimated from
 * traces of the same tokens, counting every (i, j) pair of a token's expert
 * sets. Returns one row-major `E × E` matrix per layer transition; rows of
 * experts never seen at layer l are zero.
 */
export function interLayerAffinity(
  traces: readonly RoutingTrace[],
  numExperts: number,
): Float64Array[] {
  checkInt('affinity', 'numExperts', numExperts, 1);
  if (traces.length < 2)
    throw new MoeRoutingError(
      'affinity',
      `expected traces of at least 2 layers, got ${traces.length}`,
    );
  const tokens = traces[0]!.length;
  traces.forEach((trace, l) => {
    if (trace.length !== tokens) {
      throw new MoeRoutingError(
        'affinity',
        `layer ${l} has ${trace.length} tokens; expected ${tokens} (the same tokens in every layer)`,
      );
    }
    checkTrace('affinity', trace, numExperts);
  });
  const out: Float64Array[] = [];
  for (let l = 0; l + 1 < traces.length; l++) {
    const m = new Float64Array(numExperts * numExperts);
    for (let t = 0; t < tokens; t++) {
      for (const i of traces[l]![t]!)
        for (const j of traces[l + 1]![t]!) m[i * numExperts + j]! += 1;
    }
    for (let i = 0; i < numExperts; i++) {
      let row = 0;
      for (let j = 0; j < numExperts; j++) row += m[i * numExperts + j]!;
      if (row > 0) for (let j = 0; j < numExperts; j++) m[i * numExperts + j]! /= row;
    }
    out.push(m);
  }
  return out;
}

/**
 * Experts to prefetch for layer l+1 given the experts a token uses at layer
 * l: the `count` experts with the largest summed affinity (ties: lower index).
 */
export function predictNextExperts(
  affinity: Float64Array,
  numExperts: number,
  current: readonly number[],
  count: number,
): number[] {
  checkInt('affinity', 'count', count, 1, numExperts);
  const score = new Float64Array(numExperts);
  for (const i of current)
    for (let j = 0; j < numExperts; j++) score[j]! += affinity[i * numExperts + j]!;
  return Array.from({ length: numExperts }, (_, j) => j)
    .sort((a, b) => score[b]! - score[a]! || a - b)
    .slice(0, count);
}

/**
 * Fraction of layer-(l+1) expert uses that an affinity prefetcher of `count`
 * experts had already fetched, over all transitions and tokens of `traces`.
 */
export function prefetchHitRate(
  traces: readonly RoutingTrace[],
  affinity: readonly Float64Array[],
  numExperts: number,
  count: number,
): number {
  if (affinity.length !== traces.length - 1) {
    throw new MoeRoutingError(
      'affinity',
      `expected ${traces.length - 1} affinity matrices, got ${affinity.length}`,
    );
  }
  let hits = 0;
  let total = 0;
  for (let l = 0; l + 1 < traces.length; l++) {
    traces[l]!.forEach((experts, t) => {
      const predicted = new Set(predictNextExperts(affinity[l]!, numExperts, experts, count));
      for (const j of traces[l + 1]![t]!) {
        total++;
        if (predicted.has(j)) hits++;
      }
    });
  }
  return total === 0 ? 0 : hits / total;
}
