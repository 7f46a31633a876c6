import type { Searcher } from './search.js';

/** Growable parallel id/distance lists, reused across calls to avoid allocation. */
export class PairList {
  ids: Int32Array;
  dists: Float32Array;
  size = 0;

  constructor(initial = 64) {
    this.ids = new Int32Array(initial);
    this.dists = new Float32Array(initial);
  }

  /** Make room for `n` entries (contents are kept). */
  reserve(n: number): void {
    if (n <= this.ids.length) return;
    const cap = Math.max(n, this.ids.length * 2);
    const ids = new Int32Array(cap);
    ids.set(this.ids);
    const dists = new Float32Array(cap);
    dists.set(this.dists);
    this.ids = ids;
    this.dists = dists;
  }

  /** Append one pair. */
  push(id: number, dist: number): void {
    if (this.size === this.ids.length) this.reserve(this.size + 1);
    this.ids[this.size] = id;
    this.dists[this.size] = dist;
    this.size++;
  }

  /** Sort ascending by distance. */
  sortAscending(): void {
    const ids = this.ids;
    const dists = this.dists;
    if (this.size > 64) {
      // Only extended candidate sets get this long; a permutation sort beats O(n^2).
      const order = Array.from({ length: this.size }, (_, i) => i);
      order.sort((a, b) => dists[a]! - dists[b]!);
      const sortedIds = order.map((i) => ids[i]!);
      const sortedDists = order.map((i) => dists[i]!);
      ids.set(sortedIds);
      dists.set(sortedDists);
      return;
    }
    // Insertion sort: shrink lists hold at most M0 + 1 entries.
    for (let i = 1; i < this.size; i++) {
      const d = dists[i]!;
      const id = ids[i]!;
      let j = i - 1;
      while (j >= 0 && dists[j]! > d) {
        dists[j + 1] = dists[j]!;
        ids[j + 1] = ids[j]!;
        j--;
      }
      dists[j + 1] = d;
      ids[j + 1] = id;
    }
  }
}

/** Options of the neighbour-selection heuristic (Algorithm 4). */
export interface HeuristicOptions {
  /** Add the candidates' own neighbours to the candidate set first. */
  readonly extendCandidates: boolean;
  /** Fill up to M with the nearest discarded candidates. */
  readonly keepPrunedConnections: boolean;
}

/**
 * SELECT-NEIGHBORS-HEURISTIC, Algorithm 4 of Malkov & Yashunin, "Efficient and
 * robust approximate nearest neighbor search using Hierarchical Navigable
 * Small World graphs" (2016/2018). Walks the candidates nearest first and
 * keeps one only when it is nearer to the base point `q` than to every
 * neighbour kept so far, so links spread over directions instead of piling
 * into the nearest cluster. Ties are kept, as in hnswlib.
 *
 * `cand` must be sorted ascending and hold distances to `q` (a byte address in
 * the store); it is extended in place when `extendCandidates` is set. The
 * chosen links go to `out` (cleared first), nearest first.
 */
export function selectNeighbors(
  s: Searcher,
  q: number,
  cand: PairList,
  m: number,
  level: number,
  opts: HeuristicOptions,
  out: PairList,
  pruned: PairList,
): void {
  out.size = 0;
  pruned.size = 0;
  if (opts.extendCandidates) extend(s, q, cand, level);
  if (cand.size < m && !opts.extendCandidates) {
    // Fewer candidates than slots: the heuristic could only drop some, and
    // hnswlib keeps them all here too.
    for (let i = 0; i < cand.size; i++) out.push(cand.ids[i]!, cand.dists[i]!);
    return;
  }
  const store = s.store;
  const i32 = store.i32;
  const f32 = store.f32;
  const idsBase = s.idsAddress >> 2;
  const outBase = s.outAddress >> 2;
  for (let i = 0; i < cand.size && out.size < m; i++) {
    const e = cand.ids[i]!;
    const de = cand.dists[i]!;
    let good = true;
    if (out.size > 0) {
      for (let j = 0; j < out.size; j++) i32[idsBase + j] = out.ids[j]!;
      s.kernel.batch(store.vectorAddress(e), s.idsAddress, out.size, s.outAddress);
      for (let j = 0; j < out.size; j++) {
        if (f32[outBase + j]! < de) {
          good = false;
          break;
        }
      }
    }
    if (good) out.push(e, de);
    else if (opts.keepPrunedConnections) pruned.push(e, de);
  }
  if (opts.keepPrunedConnections) {
    for (let i = 0; i < pruned.size && out.size < m; i++)
      out.push(pruned.ids[i]!, pruned.dists[i]!);
  }
}

/** Add every neighbour (on `level`) of every candidate to `cand`, with its distance to `q`. */
function extend(s: Searcher, q: number, cand: PairList, level: number): void {
  const graph = s.graph;
  const arr = graph.listArray(level);
  const visited = s.visited;
  visited.reset();
  const original = cand.size;
  for (let i = 0; i < original; i++) visited.visit(cand.ids[i]!);
  const i32 = s.store.i32;
  const f32 = s.store.f32;
  const idsBase = s.idsAddress >> 2;
  const outBase = s.outAddress >> 2;
  for (let i = 0; i < original; i++) {
    const e = cand.ids[i]!;
    const off = graph.listOffset(e, level);
    if (s.concurrent) graph.lock(e);
    const count = arr[off]!;
    let n = 0;
    for (let j = 1; j <= count; j++) {
      const id = arr[off + j]!;
      if (visited.visit(id)) i32[idsBase + n++] = id;
    }
    if (s.concurrent) graph.unlock(e);
    if (n === 0) continue;
    s.kernel.batch(q, s.idsAddress, n, s.outAddress);
    for (let j = 0; j < n; j++) cand.push(i32[idsBase + j]!, f32[outBase + j]!);
  }
  cand.sortAscending();
}
