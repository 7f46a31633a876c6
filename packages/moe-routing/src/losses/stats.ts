import type { CapacityResult } from '../capacity/capacity.js';
import type { Routing } from '../routers/types.js';

/** Host-side statistics of one routing step. */
export interface RoutingStats {
  /** Assignments each expert received after drops (routed then shared experts). */
  readonly load: Float64Array;
  /** Assignments each expert was asked for, before drops. */
  readonly requestedLoad: Float64Array;
  /** Fraction of routed assignments dropped for capacity, in [0, 1]. */
  readonly dropRate: number;
  /** Tokens that lost every routed assignment. */
  readonly droppedTokens: number;
  /** Coefficient of variation (std / mean) of the routed experts' load after drops. */
  readonly coefficientOfVariation: number;
  /** Mean over tokens of the router distribution's entropy `−Σ p log p` (nats). */
  readonly entropy: number;
}

/**
 * Load, drop rate, coefficient of variation and routing entropy of a routing,
 * and of its capacity-cut form when one is given. The coefficient of
 * variation is the balance measure of Shazeer et al. (2017); 0 is perfect.
 */
export function routingStats(routing: Routing, capped?: CapacityResult): RoutingStats {
  const requestedLoad = countLoad(routing);
  const load = capped ? countLoad(capped.routing) : requestedLoad.slice();
  const nr = routing.numRoutedExperts;
  let requested = 0;
  let kept = 0;
  for (let e = 0; e < nr; e++) {
    requested += requestedLoad[e]!;
    kept += load[e]!;
  }
  const mean = kept / nr;
  let variance = 0;
  for (let e = 0; e < nr; e++) variance += (load[e]! - mean) ** 2;
  variance /= nr;
  return {
    load,
    requestedLoad,
    dropRate: requested === 0 ? 0 : (requested - kept) / requested,
    droppedTokens: capped?.droppedTokens ?? 0,
    coefficientOfVariation: mean === 0 ? 0 : Math.sqrt(variance) / mean,
    entropy: meanEntropy(routing.probs.dataSync(), routing.numTokens, nr),
  };
}

function countLoad(routing: Routing): Float64Array {
  const load = new Float64Array(routing.numExperts);
  for (const e of routing.expertIndex) load[e]! += 1;
  return load;
}

function meanEntropy(p: ArrayLike<number>, rows: number, cols: number): number {
  if (rows === 0) return 0;
  let total = 0;
  for (let i = 0; i < rows * cols; i++) {
    const v = p[i]!;
    if (v > 0) total -= v * Math.log(v);
  }
  return total / rows;
}
