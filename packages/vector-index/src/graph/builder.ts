import type { VectorStore } from '../store/vector-store.js';
import { G_ENTRY, G_LOCK, G_MAX_LEVEL, type Graph } from './graph.js';
import { Searcher } from './search.js';
import { type HeuristicOptions, PairList, selectNeighbors } from './select-neighbors.js';

/** Construction parameters shared by every thread of a build. */
export interface BuildParams extends HeuristicOptions {
  readonly efConstruction: number;
}

/**
 * INSERT (Algorithm 1 of the HNSW paper) for nodes whose vector and level are
 * already in the store and graph. One builder per thread; with `concurrent`
 * set, lists are read and written under per-node locks and a node that raises
 * the top level holds the global lock for its whole insertion (hnswlib's
 * scheme), so several workers can insert into one graph.
 */
export class Builder {
  readonly searcher: Searcher;
  private readonly params: BuildParams;
  private readonly w = new PairList(256);
  private readonly selected = new PairList(64);
  private readonly links = new PairList(64);
  private readonly shrink = new PairList(64);
  private readonly shrunk = new PairList(64);
  private readonly pruned = new PairList(64);

  constructor(
    store: VectorStore,
    graph: Graph,
    slot: number,
    concurrent: boolean,
    params: BuildParams,
  ) {
    this.searcher = new Searcher(store, graph, slot, concurrent);
    this.params = params;
  }

  /**
   * Link node `id` into the graph at its assigned level. When the node is
   * already linked (a reused or updated slot) its old lists still guide the
   * search and are then replaced; it never links to itself.
   */
  insert(id: number): void {
    const s = this.searcher;
    const graph = s.graph;
    const store = s.store;
    const globals = graph.globals;
    const level = graph.levels[id]!;
    let holdsGlobal = false;
    if (s.concurrent) {
      spinLock(globals, G_LOCK);
      holdsGlobal = level > globals[G_MAX_LEVEL]!;
      if (!holdsGlobal) Atomics.store(globals, G_LOCK, 0);
    }
    try {
      const ep = globals[G_ENTRY]!;
      const top = globals[G_MAX_LEVEL]!;
      if (ep < 0) {
        globals[G_ENTRY] = id;
        globals[G_MAX_LEVEL] = level;
        return;
      }
      const q = store.vectorAddress(id);
      let cur = ep;
      let curDist = s.kernel.pair(q, store.vectorAddress(ep));
      for (let lc = top; lc > level; lc--) {
        s.greedy(q, cur, curDist, lc);
        cur = s.greedyId;
        curDist = s.greedyDist;
      }
      const w = this.w;
      w.size = 0;
      w.push(cur, curDist);
      for (let lc = Math.min(top, level); lc >= 0; lc--) {
        s.searchLayer(q, w.ids, w.dists, w.size, this.params.efConstruction, lc, null);
        w.reserve(s.results.size);
        w.size = s.results.drainAscending(w.ids, w.dists);
        this.linkLevel(id, q, lc);
      }
      if (level > top) {
        globals[G_ENTRY] = id;
        globals[G_MAX_LEVEL] = level;
      }
    } finally {
      if (holdsGlobal) Atomics.store(globals, G_LOCK, 0);
    }
  }

  /** Choose node `id`'s links on `lc` from the search results in `w`, then link back. */
  private linkLevel(id: number, q: number, lc: number): void {
    const s = this.searcher;
    const graph = s.graph;
    const w = this.w;
    // Candidates without the node itself (present when a slot is re-linked).
    const cand = this.shrink;
    cand.size = 0;
    for (let i = 0; i < w.size; i++) if (w.ids[i] !== id) cand.push(w.ids[i]!, w.dists[i]!);
    selectNeighbors(s, q, cand, graph.M, lc, this.params, this.selected, this.pruned);
    const links = this.links;
    links.size = 0;
    for (let i = 0; i < this.selected.size; i++)
      links.push(this.selected.ids[i]!, this.selected.dists[i]!);
    const arr = graph.listArray(lc);
    const off = graph.listOffset(id, lc);
    if (s.concurrent) graph.lock(id);
    for (let i = 0; i < links.size; i++) arr[off + 1 + i] = links.ids[i]!;
    arr[off] = links.size;
    if (s.concurrent) graph.unlock(id);
    for (let i = 0; i < links.size; i++) this.connect(links.ids[i]!, id, lc, links.dists[i]!);
  }

  /**
   * Add `id` to `e`'s list on `lc`; when the list is full, re-select it with
   * the heuristic over the old links plus `id` (the paper's shrink step).
   */
  private connect(e: number, id: number, lc: number, dist: number): void {
    const s = this.searcher;
    const graph = s.graph;
    const store = s.store;
    const arr = graph.listArray(lc);
    const off = graph.listOffset(e, lc);
    const max = graph.maxLinks(lc);
    if (s.concurrent) graph.lock(e);
    try {
      const count = arr[off]!;
      for (let j = 1; j <= count; j++) if (arr[off + j] === id) return;
      if (count < max) {
        arr[off + 1 + count] = id;
        arr[off] = count + 1;
        return;
      }
      const i32 = store.i32;
      const f32 = store.f32;
      const idsBase = s.idsAddress >> 2;
      const outBase = s.outAddress >> 2;
      for (let j = 0; j < count; j++) i32[idsBase + j] = arr[off + 1 + j]!;
      s.kernel.batch(store.vectorAddress(e), s.idsAddress, count, s.outAddress);
      const cand = this.shrink;
      cand.size = 0;
      for (let j = 0; j < count; j++) cand.push(i32[idsBase + j]!, f32[outBase + j]!);
      cand.push(id, dist);
      cand.sortAscending();
      // The shrink step never extends: that would cost a search per link.
      selectNeighbors(
        s,
        store.vectorAddress(e),
        cand,
        max,
        lc,
        { extendCandidates: false, keepPrunedConnections: this.params.keepPrunedConnections },
        this.shrunk,
        this.pruned,
      );
      const out = this.shrunk;
      for (let j = 0; j < out.size; j++) arr[off + 1 + j] = out.ids[j]!;
      arr[off] = out.size;
    } finally {
      if (s.concurrent) graph.unlock(e);
    }
  }
}

function spinLock(arr: Int32Array, index: number): void {
  while (Atomics.compareExchange(arr, index, 0, 1) !== 0) {
    // Held only while one insertion raises the top level: rare and short-lived.
  }
}
