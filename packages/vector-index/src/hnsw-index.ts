import { VectorIndexError } from './errors.js';
import { G_ENTRY, G_MAX_LEVEL } from './graph/graph.js';
import { repairNeighbours } from './graph/repair.js';
import type { IdFilter } from './graph/search.js';
import { HnswState } from './hnsw-state.js';
import type { Metric } from './metric.js';
import { resolveOptions } from './options.js';
import { type ParallelOptions, parallelInsert } from './parallel/parallel-build.js';
import { exactTopK } from './search/exact.js';
import { deserializeState, serializeState } from './serialize/format.js';
import type { HnswOptions, LoadOptions, SearchOptions, SearchResult } from './types.js';
import { batchRows, checkInt, checkLabel, checkVector, type VectorLike } from './validate.js';

const MOD = 'hnsw';
// One-entry lists for the level-0 search; reused because search runs per query.
const EP_IDS = new Int32Array(1);
const EP_DISTS = new Float32Array(1);

/**
 * Hierarchical Navigable Small World index after Malkov & Yashunin,
 * "Efficient and robust approximate nearest neighbor search using
 * Hierarchical Navigable Small World graphs" (2016/2018), with the paper's
 * neighbour-selection heuristic (Algorithm 4). Vectors live in one contiguous
 * float32 buffer scored by a WebAssembly SIMD kernel; labels are non-negative
 * integers chosen by the caller.
 */
export class HnswIndex {
  private readonly state: HnswState;
  private ef: number;

  constructor(options: HnswOptions) {
    const { config, efSearch, capacity, seed } = resolveOptions(options);
    this.ef = efSearch;
    this.state = new HnswState(config, capacity, seed);
  }

  /** Vector dimension. */
  get dim(): number {
    return this.state.config.dim;
  }

  /** Distance metric. */
  get metric(): Metric {
    return this.state.config.metric;
  }

  /** Number of live (not deleted) vectors. */
  get size(): number {
    return this.state.size;
  }

  /** Which distance kernel runs: `wasm` (SIMD) or `js`. */
  get kernel(): 'wasm' | 'js' {
    return this.state.store.kernel.kind;
  }

  /** Default efSearch for {@link search}. */
  get efSearch(): number {
    return this.ef;
  }

  set efSearch(value: number) {
    checkInt(MOD, 'efSearch', value, 1);
    this.ef = value;
  }

  /** Resolved construction settings. */
  get config(): HnswState['config'] {
    return this.state.config;
  }

  /** Bytes held by the index: vectors, links, per-slot arrays and an estimate for the label map. */
  get byteLength(): number {
    return this.state.byteLength;
  }

  /** True when `label` is in the index and not deleted. */
  has(label: number): boolean {
    return this.state.idOf.has(label);
  }

  /** Insert one vector; throws if the label is already present (use {@link update}). */
  add(label: number, vector: VectorLike): void {
    checkLabel(MOD, label);
    checkVector(MOD, vector, this.dim);
    if (this.state.idOf.has(label)) {
      throw new VectorIndexError(
        MOD,
        `label ${label} is already in the index; expected a new label (use update() to replace)`,
      );
    }
    this.insertChecked(label, vector, 0);
  }

  /**
   * Insert many vectors: `vectors` is one flat array of `labels.length * dim`
   * numbers or an array of vectors. Everything is validated before anything
   * is inserted, so a bad batch leaves the index unchanged.
   */
  addBatch(labels: ArrayLike<number>, vectors: Float32Array | readonly VectorLike[]): void {
    const row = this.checkBatch(labels, vectors);
    for (let i = 0; i < labels.length; i++) {
      const r = row(i);
      this.insertChecked(labels[i]!, r.data, r.offset);
    }
  }

  /**
   * Insert many vectors on several cores with worker_threads over shared
   * memory (hnswlib's per-node locking scheme). Levels are drawn from the
   * seed before the workers start. Node.js only.
   */
  async addBatchParallel(
    labels: ArrayLike<number>,
    vectors: Float32Array | readonly VectorLike[],
    options: ParallelOptions = {},
  ): Promise<void> {
    const row = this.checkBatch(labels, vectors);
    await parallelInsert(this.state, labels, row, options);
  }

  /** Replace the vector of an existing label and re-link it in the graph. */
  update(label: number, vector: VectorLike): void {
    checkVector(MOD, vector, this.dim);
    const s = this.state;
    const id = s.idOfLabel(MOD, label);
    // Validate into scratch first so a bad vector leaves the old one intact.
    s.store.writeQuery(MOD, 0, vector);
    s.store.commitQuery(0, id);
    repairNeighbours(s.searcher, id, s.config);
    s.builder.insert(id);
  }

  /**
   * Mark a label deleted: it is never returned again, still routes searches,
   * and its slot is reused by a later insert. Returns false when absent.
   */
  delete(label: number): boolean {
    const s = this.state;
    const id = s.idOf.get(label);
    if (id === undefined) return false;
    s.idOf.delete(label);
    s.deleted[id] = 1;
    s.deletedCount++;
    s.free.push(id);
    return true;
  }

  /** A copy of the stored vector of `label` (unit length under cosine). */
  getVector(label: number): Float32Array {
    return this.state.store.readVector(this.state.idOfLabel(MOD, label));
  }

  /** Live labels, in insertion order. */
  labels(): number[] {
    return [...this.state.idOf.keys()];
  }

  /** Approximate k nearest neighbours of `query`, nearest first. */
  search(query: VectorLike, k: number, options: SearchOptions = {}): SearchResult {
    const s = this.state;
    const q = this.prepareQuery(query, k);
    const ef = Math.max(options.efSearch ?? this.ef, k);
    checkInt(MOD, 'efSearch', ef, 1);
    const filter = this.idFilter(options.filter);
    const graph = s.graph;
    const searcher = s.searcher;
    let ep = graph.globals[G_ENTRY]!;
    let epDist = s.store.kernel.pair(q, s.store.vectorAddress(ep));
    for (let lc = graph.globals[G_MAX_LEVEL]!; lc > 0; lc--) {
      searcher.greedy(q, ep, epDist, lc);
      ep = searcher.greedyId;
      epDist = searcher.greedyDist;
    }
    EP_IDS[0] = ep;
    EP_DISTS[0] = epDist;
    searcher.searchLayer(q, EP_IDS, EP_DISTS, 1, ef, 0, filter);
    const res = searcher.results;
    while (res.size > k) res.pop();
    const ids = new Int32Array(res.size);
    const dists = new Float32Array(res.size);
    res.drainAscending(ids, dists);
    return this.toResult(ids, dists);
  }

  /** Exact k nearest neighbours by brute force over the same vectors (ground truth). */
  searchExact(
    query: VectorLike,
    k: number,
    options: Pick<SearchOptions, 'filter'> = {},
  ): SearchResult {
    const s = this.state;
    const q = this.prepareQuery(query, k);
    const filter = this.idFilter(options.filter);
    const { ids, dists } = exactTopK(s.store, q, s.count, k, filter);
    return this.toResult(ids, dists);
  }

  /** The index in the versioned, checksummed binary format. */
  toBytes(): Uint8Array {
    return serializeState(this.state, this.ef);
  }

  /** Restore an index from {@link toBytes} output without rebuilding the graph. */
  static fromBytes(bytes: Uint8Array, options: LoadOptions = {}): HnswIndex {
    const { state, efSearch } = deserializeState(bytes, options);
    const index = Object.create(HnswIndex.prototype) as HnswIndex;
    const writable = index as unknown as { state: HnswState; ef: number };
    writable.state = state;
    writable.ef = efSearch;
    return index;
  }

  /** Write {@link toBytes} to a file (Node.js). */
  async save(path: string): Promise<void> {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, this.toBytes());
  }

  /** Read an index written by {@link save} (Node.js). */
  static async load(path: string, options: LoadOptions = {}): Promise<HnswIndex> {
    const { readFile } = await import('node:fs/promises');
    const buf = await readFile(path);
    return HnswIndex.fromBytes(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), options);
  }

  private insertChecked(label: number, data: ArrayLike<number>, offset: number): void {
    const s = this.state;
    // Grow first (it replaces the store), then validate into scratch before
    // taking a slot, so a bad vector changes nothing.
    if (s.free.length === 0) s.ensureCapacity(s.count + 1);
    s.store.writeQuery(MOD, 0, offset === 0 ? data : sliceRow(data, offset, this.dim));
    const { id, reused } = s.takeSlot();
    s.store.commitQuery(0, id);
    // A reused slot still has the old vector's neighbours: repair them as for an update.
    if (reused) repairNeighbours(s.searcher, id, s.config);
    s.labels[id] = label;
    s.idOf.set(label, id);
    s.builder.insert(id);
  }

  private checkBatch(
    labels: ArrayLike<number>,
    vectors: Float32Array | readonly VectorLike[],
  ): (i: number) => { data: ArrayLike<number>; offset: number } {
    const row = batchRows(MOD, vectors, labels.length, this.dim);
    const seen = new Set<number>();
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      checkLabel(MOD, label);
      if (seen.has(label) || this.state.idOf.has(label)) {
        throw new VectorIndexError(
          MOD,
          `label ${label} appears twice or is already in the index; expected new, distinct labels`,
        );
      }
      seen.add(label);
      const r = row(i);
      let sq = 0;
      for (let j = 0; j < this.dim; j++) {
        const v = r.data[r.offset + j]!;
        sq += v * v;
        if (!Number.isFinite(v)) {
          throw new VectorIndexError(
            MOD,
            `vector ${i} (label ${label}) has a non-finite component ${j}; expected finite numbers`,
          );
        }
      }
      if (sq === 0 && this.metric === 'cosine') {
        throw new VectorIndexError(
          MOD,
          `vector ${i} (label ${label}) is all zeros; the cosine metric needs non-zero vectors`,
        );
      }
    }
    return row;
  }

  private prepareQuery(query: VectorLike, k: number): number {
    checkVector(MOD, query, this.dim);
    checkInt(MOD, 'k', k, 1);
    const live = this.state.size;
    if (k > live) {
      throw new VectorIndexError(
        MOD,
        `k = ${k} but the index holds ${live} vectors; expected k <= ${live}`,
      );
    }
    return this.state.store.writeQuery(MOD, 0, query);
  }

  private idFilter(filter: ((label: number) => boolean) | undefined): IdFilter | null {
    const s = this.state;
    if (filter === undefined && s.deletedCount === 0) return null;
    const deleted = s.deleted;
    const labels = s.labels;
    if (filter === undefined) return (id) => deleted[id] === 0;
    return (id) => deleted[id] === 0 && filter(labels[id]!);
  }

  private toResult(ids: Int32Array, dists: Float32Array): SearchResult {
    const labels = new Array<number>(ids.length);
    const distances = new Array<number>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      labels[i] = this.state.labels[ids[i]!]!;
      distances[i] = dists[i]!;
    }
    return { labels, distances };
  }
}

function sliceRow(data: ArrayLike<number>, offset: number, dim: number): ArrayLike<number> {
  if (ArrayBuffer.isView(data)) return (data as Float32Array).subarray(offset, offset + dim);
  return Array.prototype.slice.call(data, offset, offset + dim) as number[];
}
