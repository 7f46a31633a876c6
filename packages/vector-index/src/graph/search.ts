import type { DistanceKernel } from '../kernel/kernel.js';
import type { VectorStore } from '../store/vector-store.js';
import type { Graph } from './graph.js';
import { MaxHeap, MinHeap } from './heap.js';
import { VisitedSet } from './visited.js';

/** Decides whether an internal id may appear in results (deletion, user filter). */
export type IdFilter = (id: number) => boolean;

/**
 * Per-thread search state over a shared store and graph: the visited set,
 * the two heaps and this thread's scratch slot. One instance per thread; the
 * graph and vectors are shared, these are not.
 */
export class Searcher {
  readonly store: VectorStore;
  readonly graph: Graph;
  readonly kernel: DistanceKernel;
  /** Lock lists while reading them: set when other threads may be writing. */
  readonly concurrent: boolean;
  readonly slot: number;
  readonly idsAddress: number;
  readonly outAddress: number;
  private readonly idsBase: number;
  private readonly outBase: number;
  readonly visited: VisitedSet;
  readonly candidates = new MinHeap();
  /** Results of the last {@link searchLayer}, worst on top. */
  readonly results = new MaxHeap();
  /** Nearest id and distance found by the last {@link greedy}. */
  greedyId = -1;
  greedyDist = 0;

  constructor(store: VectorStore, graph: Graph, slot: number, concurrent: boolean) {
    this.store = store;
    this.graph = graph;
    this.kernel = store.kernel;
    this.concurrent = concurrent;
    this.slot = slot;
    this.idsAddress = store.idsAddress(slot);
    this.outAddress = store.outAddress(slot);
    this.idsBase = this.idsAddress >> 2;
    this.outBase = this.outAddress >> 2;
    this.visited = new VisitedSet(graph.capacity);
  }

  /**
   * Copy the not-yet-visited links of `node` on `level` into the scratch id
   * list and return how many there are. Under a parallel build the list is
   * read under the node's lock, as in hnswlib, so it is never half-written.
   */
  private gatherUnvisited(node: number, level: number): number {
    const graph = this.graph;
    const arr = level === 0 ? graph.level0 : graph.upperPool;
    const off = graph.listOffset(node, level);
    const i32 = this.store.i32;
    const visited = this.visited;
    const base = this.idsBase;
    if (this.concurrent) graph.lock(node);
    const count = arr[off]!;
    let n = 0;
    for (let j = 1; j <= count; j++) {
      const id = arr[off + j]!;
      if (visited.visit(id)) i32[base + n++] = id;
    }
    if (this.concurrent) graph.unlock(node);
    return n;
  }

  /**
   * Greedy walk on one upper level (the paper's search with ef = 1): move to
   * the nearest neighbour while that improves the distance to `q`.
   */
  greedy(q: number, ep: number, epDist: number, level: number): void {
    const graph = this.graph;
    const arr = graph.listArray(level);
    const i32 = this.store.i32;
    const f32 = this.store.f32;
    const base = this.idsBase;
    let changed = true;
    while (changed) {
      changed = false;
      const off = graph.listOffset(ep, level);
      if (this.concurrent) graph.lock(ep);
      const count = arr[off]!;
      for (let j = 0; j < count; j++) i32[base + j] = arr[off + 1 + j]!;
      if (this.concurrent) graph.unlock(ep);
      if (count === 0) break;
      this.kernel.batch(q, this.idsAddress, count, this.outAddress);
      for (let j = 0; j < count; j++) {
        const d = f32[this.outBase + j]!;
        if (d < epDist) {
          epDist = d;
          ep = i32[base + j]!;
          changed = true;
        }
      }
    }
    this.greedyId = ep;
    this.greedyDist = epDist;
  }

  /**
   * The paper's SEARCH-LAYER (Algorithm 2) from several entry points, leaving
   * the `ef` nearest allowed nodes in {@link results}. With a filter the walk
   * still passes through filtered-out nodes (they keep the graph connected)
   * and, like hnswlib, does not stop early until `ef` allowed nodes are found.
   */
  searchLayer(
    q: number,
    epIds: Int32Array,
    epDists: Float32Array,
    epCount: number,
    ef: number,
    level: number,
    filter: IdFilter | null,
  ): void {
    const visited = this.visited;
    const cand = this.candidates;
    const res = this.results;
    visited.reset();
    cand.clear();
    res.clear();
    for (let i = 0; i < epCount; i++) {
      const id = epIds[i]!;
      if (!visited.visit(id)) continue;
      const d = epDists[i]!;
      cand.push(d, id);
      if (filter === null || filter(id)) {
        res.push(d, id);
        if (res.size > ef) res.pop();
      }
    }
    let lower = res.size > 0 ? res.topKey() : Number.POSITIVE_INFINITY;
    const f32 = this.store.f32;
    const i32 = this.store.i32;
    const idsBase = this.idsBase;
    const outBase = this.outBase;
    while (cand.size > 0) {
      if (cand.topKey() > lower && (res.size === ef || filter === null)) break;
      const c = cand.topId();
      cand.pop();
      const n = this.gatherUnvisited(c, level);
      if (n === 0) continue;
      this.kernel.batch(q, this.idsAddress, n, this.outAddress);
      for (let i = 0; i < n; i++) {
        const d = f32[outBase + i]!;
        if (res.size < ef || d < lower) {
          const id = i32[idsBase + i]!;
          cand.push(d, id);
          if (filter === null || filter(id)) {
            res.push(d, id);
            if (res.size > ef) res.pop();
            lower = res.topKey();
          }
        }
      }
    }
  }
}
