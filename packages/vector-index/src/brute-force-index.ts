import { VectorIndexError } from './errors.js';
import { checkMetric, type Metric } from './metric.js';
import { exactTopK } from './search/exact.js';
import { type KernelChoice, VectorStore } from './store/vector-store.js';
import type { SearchResult } from './types.js';
import { batchRows, checkInt, checkLabel, checkVector, type VectorLike } from './validate.js';

const MOD = 'brute-force';

/** Options of {@link BruteForceIndex}. */
export interface BruteForceOptions {
  /** Vector dimension; checked on every call. */
  readonly dim: number;
  /** Distance metric (default `l2`). */
  readonly metric?: Metric;
  /** Initial slots; grows by doubling (default 1024). */
  readonly capacity?: number;
  /** Distance kernel: `auto`, `wasm` or `js`. */
  readonly kernel?: KernelChoice;
}

/**
 * Exact nearest-neighbour search by scanning every vector, with the same
 * add/update/delete/search API and distances as {@link HnswIndex}. Use it for
 * ground truth and for sets small enough that a scan is fast enough.
 */
export class BruteForceIndex {
  private store: VectorStore;
  private count = 0;
  private labelOf: Float64Array;
  private readonly idOf = new Map<number, number>();

  constructor(options: BruteForceOptions) {
    checkInt(MOD, 'dim', options?.dim, 1, 65536);
    const capacity = options.capacity ?? 1024;
    checkInt(MOD, 'capacity', capacity, 1);
    const metric = checkMetric(MOD, options.metric ?? 'l2');
    this.store = VectorStore.create(options.dim, metric, capacity, 1, options.kernel ?? 'auto');
    this.labelOf = new Float64Array(capacity);
  }

  /** Vector dimension. */
  get dim(): number {
    return this.store.dim;
  }

  /** Distance metric. */
  get metric(): Metric {
    return this.store.metric;
  }

  /** Number of vectors. */
  get size(): number {
    return this.count;
  }

  /** True when `label` is present. */
  has(label: number): boolean {
    return this.idOf.has(label);
  }

  /** Insert one vector; throws if the label is present (use {@link update}). */
  add(label: number, vector: VectorLike): void {
    checkLabel(MOD, label);
    checkVector(MOD, vector, this.dim);
    if (this.idOf.has(label)) {
      throw new VectorIndexError(
        MOD,
        `label ${label} is already in the index; expected a new label (use update() to replace)`,
      );
    }
    this.grow(this.count + 1);
    this.store.writeQuery(MOD, 0, vector);
    const id = this.count++;
    this.store.commitQuery(0, id);
    this.labelOf[id] = label;
    this.idOf.set(label, id);
  }

  /** Insert many vectors (a flat array of `labels.length * dim` numbers or an array of vectors). */
  addBatch(labels: ArrayLike<number>, vectors: Float32Array | readonly VectorLike[]): void {
    const row = batchRows(MOD, vectors, labels.length, this.dim);
    for (let i = 0; i < labels.length; i++) {
      const r = row(i);
      const v = ArrayBuffer.isView(r.data)
        ? (r.data as Float32Array).subarray(r.offset, r.offset + this.dim)
        : r.data;
      this.add(labels[i]!, v);
    }
  }

  /** Replace the vector of an existing label. */
  update(label: number, vector: VectorLike): void {
    checkVector(MOD, vector, this.dim);
    const id = this.idOf.get(label);
    if (id === undefined)
      throw new VectorIndexError(
        MOD,
        `label ${label} is not in the index; expected a label added before`,
      );
    this.store.writeQuery(MOD, 0, vector);
    this.store.commitQuery(0, id);
  }

  /** Remove a label; its slot is filled by the last vector. Returns false when absent. */
  delete(label: number): boolean {
    const id = this.idOf.get(label);
    if (id === undefined) return false;
    this.idOf.delete(label);
    const last = --this.count;
    if (id !== last) {
      const from = this.store.vectorAddress(last) >> 2;
      this.store.f32.copyWithin(
        this.store.vectorAddress(id) >> 2,
        from,
        from + this.store.paddedDim,
      );
      const moved = this.labelOf[last]!;
      this.labelOf[id] = moved;
      this.idOf.set(moved, id);
    }
    return true;
  }

  /** Exact k nearest neighbours, nearest first; `filter` keeps only matching labels. */
  search(
    query: VectorLike,
    k: number,
    options: { filter?: (label: number) => boolean } = {},
  ): SearchResult {
    checkVector(MOD, query, this.dim);
    checkInt(MOD, 'k', k, 1);
    if (k > this.count) {
      throw new VectorIndexError(
        MOD,
        `k = ${k} but the index holds ${this.count} vectors; expected k <= ${this.count}`,
      );
    }
    const q = this.store.writeQuery(MOD, 0, query);
    const filter = options.filter;
    const labelOf = this.labelOf;
    const { ids, dists } = exactTopK(
      this.store,
      q,
      this.count,
      k,
      filter === undefined ? null : (id) => filter(labelOf[id]!),
    );
    return { labels: Array.from(ids, (id) => labelOf[id]!), distances: Array.from(dists) };
  }

  private grow(needed: number): void {
    if (needed <= this.store.capacity) return;
    const next = Math.max(needed, this.store.capacity * 2);
    this.store = this.store.resized(next, 1, this.count);
    const labels = new Float64Array(next);
    labels.set(this.labelOf.subarray(0, this.count));
    this.labelOf = labels;
  }
}
