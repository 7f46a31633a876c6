import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { CachePolicy } from '../src/index.js';
import {
  createTopKRouter,
  disposeRouting,
  segmentCacheHitRate,
  segmentRoutingPerformance,
  simulateExpertCache,
  traceFromAssignments,
} from '../src/index.js';

/** One row: hit rates of each policy, SRP and SCH, for a trace of given token correlation. */
export interface OffloadRow {
  readonly rho: number;
  readonly capacity: number;
  readonly lru: number;
  readonly lfu: number;
  readonly lookahead8: number;
  readonly optimal: number;
  readonly sch8: number;
  readonly srp8: number;
}

/**
 * Routing traces of an 8-expert top-2 router over AR(1) token sequences
 * (`x_t = ρ·x_{t−1} + √(1−ρ²)·ε`): ρ = 0 has no local routing consistency,
 * ρ = 0.95 a lot. Cache hit rates per policy and cache size, SRP and SCH at m = 8.
 */
export async function offloadBench(tokens = 4096, dim = 32, numExperts = 8): Promise<OffloadRow[]> {
  await initBackend({ backend: 'cpu' });
  const rows: OffloadRow[] = [];
  for (const rho of [0, 0.95]) {
    const rng = new SeededRandom(11);
    const x = new Float32Array(tokens * dim);
    for (let t = 0; t < tokens; t++) {
      for (let d = 0; d < dim; d++) {
        const prev = t === 0 ? 0 : x[(t - 1) * dim + d]!;
        x[t * dim + d] = rho * prev + Math.sqrt(1 - rho * rho) * rng.normal();
      }
    }
    const w = new SeededRandom(12).fillNormal(
      new Float32Array(dim * numExperts),
      0,
      1 / Math.sqrt(dim),
    );
    const trace = tf.tidy(() => {
      const logits = tf.matMul(
        tf.tensor2d(x, [tokens, dim]),
        tf.tensor2d(w, [dim, numExperts]),
      ) as tf.Tensor2D;
      const r = createTopKRouter({ numExperts, k: 2 }).route({ logits });
      const tr = traceFromAssignments(r.tokenIndex, r.expertIndex, tokens);
      disposeRouting(r);
      return tr;
    });
    const srp8 = segmentRoutingPerformance(trace, numExperts, 8).srp;
    for (const capacity of [2, 4, 6]) {
      const hit = (policy: CachePolicy, lookahead?: number): number =>
        simulateExpertCache(trace, {
          numExperts,
          capacity,
          policy,
          ...(lookahead ? { lookahead } : {}),
        }).hitRate;
      rows.push({
        rho,
        capacity,
        lru: hit('lru'),
        lfu: hit('lfu'),
        lookahead8: hit('lookahead', 8),
        optimal: hit('optimal'),
        sch8: segmentCacheHitRate(trace, numExperts, 8, capacity),
        srp8,
      });
    }
  }
  return rows;
}
