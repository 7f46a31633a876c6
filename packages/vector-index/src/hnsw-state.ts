import { VectorIndexError } from './errors.js';
import { Builder } from './graph/builder.js';
import { Graph } from './graph/graph.js';
import type { Searcher } from './graph/search.js';
import type { Metric } from './metric.js';
import { drawLevel, SeededRandom } from './random.js';
import { type KernelChoice, VectorStore } from './store/vector-store.js';

/** Resolved construction settings of an HNSW index. */
export interface HnswConfig {
  readonly dim: number;
  readonly metric: Metric;
  readonly M: number;
  readonly M0: number;
  readonly efConstruction: number;
  readonly levelMultiplier: number;
  readonly extendCandidates: boolean;
  readonly keepPrunedConnections: boolean;
  readonly kernel: KernelChoice;
}

/**
 * Everything an HNSW index holds, kept apart from the public class so the
 * binary format and the parallel build can read and restore it. Internal ids
 * are slots `0..count-1`; labels are the user's ids.
 */
export class HnswState {
  readonly config: HnswConfig;
  store: VectorStore;
  graph: Graph;
  builder: Builder;
  searcher: Searcher;
  /** Slots in use, deleted ones included. */
  count = 0;
  deletedCount = 0;
  deleted: Uint8Array;
  labels: Float64Array;
  readonly idOf = new Map<number, number>();
  /** Deleted slots, reused by later inserts. */
  readonly free: number[] = [];
  readonly rng: SeededRandom;

  constructor(config: HnswConfig, capacity: number, seed: number) {
    this.config = config;
    this.store = VectorStore.create(config.dim, config.metric, capacity, 1, config.kernel);
    this.graph = new Graph({ capacity, M: config.M, M0: config.M0 });
    this.deleted = new Uint8Array(capacity);
    this.labels = new Float64Array(capacity);
    this.rng = new SeededRandom(seed);
    this.builder = new Builder(this.store, this.graph, 0, false, config);
    this.searcher = this.builder.searcher;
  }

  /** Live (not deleted) vectors. */
  get size(): number {
    return this.count - this.deletedCount;
  }

  /** Grow to hold `needed` slots and `slots` scratch slots, doubling to keep growth amortised. */
  ensureCapacity(needed: number, slots = 1): void {
    const cap = this.store.capacity;
    if (needed <= cap && slots <= this.store.slots) return;
    const next = needed <= cap ? cap : Math.max(needed, cap * 2, 16);
    this.store = this.store.resized(next, Math.max(slots, this.store.slots), this.count);
    if (next !== this.graph.capacity) {
      this.graph = this.graph.resized(next, this.count);
      const deleted = new Uint8Array(next);
      deleted.set(this.deleted.subarray(0, this.count));
      this.deleted = deleted;
      const labels = new Float64Array(next);
      labels.set(this.labels.subarray(0, this.count));
      this.labels = labels;
    }
    this.builder = new Builder(this.store, this.graph, 0, false, this.config);
    this.searcher = this.builder.searcher;
  }

  /**
   * A slot for a new vector: a deleted slot when one is free (it keeps its
   * level, so the hierarchy stays valid), else a fresh one with a seeded level.
   */
  takeSlot(): { id: number; reused: boolean } {
    const reusedId = this.free.pop();
    if (reusedId !== undefined) {
      this.deleted[reusedId] = 0;
      this.deletedCount--;
      return { id: reusedId, reused: true };
    }
    this.ensureCapacity(this.count + 1);
    const id = this.count++;
    this.graph.assignLevel(id, drawLevel(this.rng, this.config.levelMultiplier));
    return { id, reused: false };
  }

  /** Internal id of a live label, or throw. */
  idOfLabel(module: string, label: number): number {
    const id = this.idOf.get(label);
    if (id === undefined) {
      throw new VectorIndexError(
        module,
        `label ${label} is not in the index; expected a label added before`,
      );
    }
    return id;
  }

  /** Bytes held by vectors, links and per-slot arrays (the label map is estimated). */
  get byteLength(): number {
    // A Map entry with a small-integer key costs about 28 bytes in V8.
    return (
      this.store.byteLength +
      this.graph.byteLength +
      this.deleted.byteLength +
      this.labels.byteLength +
      this.idOf.size * 28
    );
  }
}
