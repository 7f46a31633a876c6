import type { CsrGraph } from '../../csr/csr-graph.js';
import type { Rng } from '../../random/rng.js';
import { kCoreMask } from './kcore.js';

/**
 * Reinsertion clean-up used after BP-guided decimation (as in the decycling
 * literature, e.g. Zdeborová, Zhang & Zhou 2016): try to put back each
 * deleted vertex, fewest surviving neighbours first, and keep it back when
 * the K-core stays empty. A vertex with fewer than `k` surviving neighbours
 * is put back without a check (it would be pruned at once); others need one
 * O(n + m) pruning pass. Returns the smaller set (input order kept).
 */
export function refineAttackSet(
  graph: CsrGraph,
  k: number,
  attackSet: Int32Array,
  rng: Rng,
): Int32Array {
  const n = graph.numNodes;
  const { indptr, indices } = graph;
  const removed = new Uint8Array(n);
  for (const u of attackSet) removed[u] = 1;
  const survivingNeighbours = (u: number): number => {
    let d = 0;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v !== u && removed[v] === 0) d++;
    }
    return d;
  };
  // Random keys break ties so that equal-degree vertices are tried in random order.
  const order = Array.from(attackSet, (u) => ({ u, d: survivingNeighbours(u), r: rng.next() }));
  order.sort((a, b) => a.d - b.d || a.r - b.r);
  for (const { u } of order) {
    removed[u] = 0;
    if (survivingNeighbours(u) < k) continue;
    const core = kCoreMask(graph, k, removed);
    // The K-core before was empty, so a non-empty one now contains u.
    if (core[u] === 1) removed[u] = 1;
  }
  return attackSet.filter((u) => removed[u] === 1);
}
