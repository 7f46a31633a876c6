import type { Metric } from './metric.js';
import type { KernelChoice } from './store/vector-store.js';

/** Options of `HnswIndex`. Only `dim` is required. */
export interface HnswOptions {
  /** Vector dimension; checked on every call. */
  readonly dim: number;
  /** Distance metric (default `l2`, squared Euclidean). */
  readonly metric?: Metric;
  /** Links per node on upper levels (default 16). */
  readonly M?: number;
  /** Links per node on level 0 (default 2 * M, as in the paper). */
  readonly M0?: number;
  /** Candidate list size while building (default 200). */
  readonly efConstruction?: number;
  /** Default candidate list size of `HnswIndex.search` (default 64). */
  readonly efSearch?: number;
  /** Level multiplier mL (default 1 / ln(M), the paper's choice). */
  readonly levelMultiplier?: number;
  /** Seed of the level draws (default 100, as hnswlib). */
  readonly seed?: number;
  /** Initial slots; the index grows by doubling (default 1024). */
  readonly capacity?: number;
  /** Algorithm 4's extendCandidates (default false; helps on extremely clustered data). */
  readonly extendCandidates?: boolean;
  /** Algorithm 4's keepPrunedConnections (default false). */
  readonly keepPrunedConnections?: boolean;
  /** Distance kernel: `auto` (wasm SIMD where available), `wasm` or `js`. */
  readonly kernel?: KernelChoice;
}

/** Options of a single search. */
export interface SearchOptions {
  /** Candidate list size; raised to k when smaller. Defaults to the index's efSearch. */
  readonly efSearch?: number;
  /** Only labels for which this returns true are returned. */
  readonly filter?: (label: number) => boolean;
}

/** Search hits, nearest first. */
export interface SearchResult {
  readonly labels: number[];
  readonly distances: number[];
}

/** Options of `HnswIndex.load` / `HnswIndex.fromBytes`. */
export interface LoadOptions {
  /** Fail unless the stored index has this dimension. */
  readonly dim?: number;
  /** Fail unless the stored index uses this metric. */
  readonly metric?: Metric;
  /** Distance kernel for the loaded index. */
  readonly kernel?: KernelChoice;
}
