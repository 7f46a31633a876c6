import { VectorIndexError } from './errors.js';
import type { HnswConfig } from './hnsw-state.js';
import { checkMetric } from './metric.js';
import type { HnswOptions } from './types.js';
import { checkInt } from './validate.js';

const MOD = 'hnsw';

/**
 * Validate constructor options and fill in the paper's defaults: M = 16,
 * M0 = 2M, efConstruction = 200, level multiplier 1 / ln(M).
 */
export function resolveOptions(options: HnswOptions): {
  config: HnswConfig;
  efSearch: number;
  capacity: number;
  seed: number;
} {
  const o = options ?? ({} as HnswOptions);
  checkInt(MOD, 'dim', o.dim, 1, 65536);
  const M = o.M ?? 16;
  checkInt(MOD, 'M', M, 2, 512);
  const M0 = o.M0 ?? 2 * M;
  checkInt(MOD, 'M0', M0, M, 1024);
  const efConstruction = o.efConstruction ?? 200;
  checkInt(MOD, 'efConstruction', efConstruction, 1);
  const efSearch = o.efSearch ?? 64;
  checkInt(MOD, 'efSearch', efSearch, 1);
  const levelMultiplier = o.levelMultiplier ?? 1 / Math.log(M);
  if (!(levelMultiplier > 0 && Number.isFinite(levelMultiplier))) {
    throw new VectorIndexError(
      MOD,
      `levelMultiplier must be a positive number, got ${levelMultiplier}`,
    );
  }
  const seed = o.seed ?? 100;
  checkInt(MOD, 'seed', seed, 0, 0xffffffff);
  const capacity = o.capacity ?? 1024;
  checkInt(MOD, 'capacity', capacity, 1);
  return {
    config: {
      dim: o.dim,
      metric: checkMetric(MOD, o.metric ?? 'l2'),
      M,
      M0,
      efConstruction,
      levelMultiplier,
      extendCandidates: o.extendCandidates ?? false,
      keepPrunedConnections: o.keepPrunedConnections ?? false,
      kernel: o.kernel ?? 'auto',
    },
    efSearch,
    capacity,
    seed,
  };
}
