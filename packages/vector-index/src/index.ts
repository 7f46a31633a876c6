export { BruteForceIndex, type BruteForceOptions } from './brute-force-index.js';
export { VectorIndexError } from './errors.js';
export {
  HnswIndex,
  type HnswOptions,
  type LoadOptions,
  type SearchOptions,
  type SearchResult,
} from './hnsw-index.js';
export type { HnswConfig } from './hnsw-state.js';
export type { Metric } from './metric.js';
export type { ParallelOptions } from './parallel/parallel-build.js';
export { FORMAT_VERSION } from './serialize/format.js';
export type { KernelChoice } from './store/vector-store.js';
export type { VectorLike } from './validate.js';
