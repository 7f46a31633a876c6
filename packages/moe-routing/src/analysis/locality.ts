import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { simulateExpertCache } from './cache-sim.js';
import type { RoutingTrace } from './trace.js';
import { checkTrace } from './trace.js';

/** Result of {@link segmentRoutingPerformance}. */
export interface SrpResult {
  /** The best F1 over thresholds (the SRP). */
  readonly srp: number;
  /** The count threshold θ that achieves it. */
  readonly threshold: number;
  /** F1 at every threshold θ = 0 … m. */
  readonly f1ByThreshold: Float64Array;
}

/**
 * Segment Routing Best Performance, SRP ("Not All Models Suit Expert
 * Offloading: On Local Routing Consistency of Mixture-of-Expert Models",
 * Liang et al., 2025): how well one fixed expert group per segment of m
 * consecutive tokens covers what the tokens activate. For every sliding
 * window of m tokens and every expert, `cnt` is how many of the window's
 * tokens activate the expert; a threshold θ predicts the experts with
 * `cnt ≥ θ` as active for all m tokens. Summed over windows, matches are
 * `Σ cnt` over predicted experts, predictions `m · #predicted`, activations
 * `Σ cnt`; SRP is the best `F1 = 2·matches / (predictions + activations)`
 * over θ = 0 … m, as in the authors' reference code.
 */
export function segmentRoutingPerformance(
  trace: RoutingTrace,
  numExperts: number,
  m: number,
): SrpResult {
  checkInt('locality', 'numExperts', numExperts, 1);
  checkInt('locality', 'segment length m', m, 1);
  checkTrace('locality', trace, numExperts);
  if (m > trace.length) {
    throw new MoeRoutingError(
      'locality',
      `segment length m = ${m} must be <= the trace length ${trace.length}`,
    );
  }
  // hist[c] = number of (window, expert) pairs whose count is c.
  const hist = new Float64Array(m + 1);
  const cnt = new Int32Array(numExperts);
  for (let t = 0; t < m; t++) for (const e of trace[t]!) cnt[e]! += 1;
  for (let w = 0; ; w++) {
    for (let e = 0; e < numExperts; e++) hist[cnt[e]!]! += 1;
    if (w + m >= trace.length) break;
    for (const e of trace[w]!) cnt[e]! -= 1;
    for (const e of trace[w + m]!) cnt[e]! += 1;
  }
  let acts = 0;
  for (let c = 0; c <= m; c++) acts += c * hist[c]!;
  const f1ByThreshold = new Float64Array(m + 1);
  let matches = 0;
  let predicted = 0;
  for (let theta = m; theta >= 0; theta--) {
    matches += theta * hist[theta]!;
    predicted += hist[theta]!;
    f1ByThreshold[theta] = (2 * matches) / Math.max(1, m * predicted + acts);
  }
  let threshold = 0;
  for (let theta = 1; theta <= m; theta++)
    if (f1ByThreshold[theta]! > f1ByThreshold[threshold]!) threshold = theta;
  return { srp: f1ByThreshold[threshold]!, threshold, f1ByThreshold };
}

/**
 * Segment Cache Best Hit Rate, SCH (Liang et al., 2025, as above): the hit
 * rate of a cache of C experts that, at each token, keeps the experts used
 * most often in the next m tokens (ties: most recently used), the cache
 * starting preloaded with the first C distinct experts, as in the authors'
 * reference code. It bounds what a segment-level prefetcher can achieve.
 */
export function segmentCacheHitRate(
  trace: RoutingTrace,
  numExperts: number,
  m: number,
  capacity: number,
): number {
  checkInt('locality', 'segment length m', m, 1);
  return simulateExpertCache(trace, {
    numExperts,
    capacity,
    policy: 'lookahead',
    lookahead: m,
    warmStart: true,
  }).hitRate;
}
