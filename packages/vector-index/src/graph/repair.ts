import { SCRATCH_ENTRIES } from '../store/vector-store.js';
import type { BuildParams } from './builder.js';
import type { Searcher } from './search.js';
import { PairList, selectNeighbors } from './select-neighbors.js';

/**
 * Before a node's vector changes in place (update, or reuse of a deleted
 * slot), re-select the links of its old neighbours so they stop pointing at
 * a vector that has moved away (hnswlib's updatePoint). For each level, every
 * one-hop neighbour gets the heuristic's choice among the node, its one-hop
 * and two-hop neighbours, scored against the neighbour's own vector. Call
 * after the new vector is written, before re-linking the node itself.
 * Single-threaded use only.
 */
export function repairNeighbours(s: Searcher, id: number, params: BuildParams): void {
  const graph = s.graph;
  const store = s.store;
  const i32 = store.i32;
  const f32 = store.f32;
  const idsBase = s.idsAddress >> 2;
  const outBase = s.outAddress >> 2;
  const candidates = new PairList(256);
  const scored = new PairList(256);
  const chosen = new PairList(64);
  const pruned = new PairList(64);
  const level = graph.levels[id]!;
  for (let lc = 0; lc <= level; lc++) {
    const arr = graph.listArray(lc);
    const off = graph.listOffset(id, lc);
    const oneHop = arr.slice(off + 1, off + 1 + arr[off]!);
    if (oneHop.length === 0) continue;
    // Candidate set: the node, its neighbours and theirs, without repeats.
    s.visited.reset();
    candidates.size = 0;
    const addCandidate = (c: number): void => {
      if (s.visited.visit(c)) candidates.push(c, 0);
    };
    addCandidate(id);
    for (const n of oneHop) {
      addCandidate(n);
      const nOff = graph.listOffset(n, lc);
      for (let j = 1; j <= arr[nOff]!; j++) addCandidate(arr[nOff + j]!);
    }
    for (const n of oneHop) {
      scored.size = 0;
      const nAddr = store.vectorAddress(n);
      for (let start = 0; start < candidates.size; start += SCRATCH_ENTRIES) {
        let m = 0;
        const end = Math.min(candidates.size, start + SCRATCH_ENTRIES);
        for (let c = start; c < end; c++) {
          const cid = candidates.ids[c]!;
          if (cid !== n) i32[idsBase + m++] = cid;
        }
        if (m === 0) continue;
        s.kernel.batch(nAddr, s.idsAddress, m, s.outAddress);
        for (let j = 0; j < m; j++) scored.push(i32[idsBase + j]!, f32[outBase + j]!);
      }
      scored.sortAscending();
      scored.size = Math.min(scored.size, params.efConstruction);
      selectNeighbors(
        s,
        nAddr,
        scored,
        graph.maxLinks(lc),
        lc,
        { extendCandidates: false, keepPrunedConnections: params.keepPrunedConnections },
        chosen,
        pruned,
      );
      const nOff = graph.listOffset(n, lc);
      for (let j = 0; j < chosen.size; j++) arr[nOff + 1 + j] = chosen.ids[j]!;
      arr[nOff] = chosen.size;
    }
  }
}
