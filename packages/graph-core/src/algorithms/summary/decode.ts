import { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import type { HierarchicalSummary } from './types.js';

/** Node set (leaf ids) of every supernode of a summary's forest. */
export function supernodeMembers(s: HierarchicalSummary): Int32Array[] {
  const total = s.parent.length;
  const lists: number[][] = Array.from({ length: total }, (_, i) => (i < s.numNodes ? [i] : []));
  for (let v = 0; v < s.numNodes; v++) {
    // Walk up from each node; the parent forest has no cycles when valid.
    let a = s.parent[v]!;
    let steps = 0;
    while (a !== -1) {
      if (a < s.numNodes || a >= total || ++steps > total) {
        throw new GraphCoreError(
          'algorithms/summary',
          `supernode parents must form a forest above the nodes (bad parent ${a})`,
        );
      }
      lists[a]!.push(v);
      a = s.parent[a]!;
    }
  }
  return lists.map((l) => Int32Array.from(l));
}

/**
 * Rebuild the graph a {@link HierarchicalSummary} encodes: count, for every
 * node pair a superedge covers, positive minus negative covers, and keep the
 * pairs that end at exactly 1. Throws if some count leaves {0, 1}, since then
 * the summary is not a valid encoding. Cost O(Σ |A|·|B|) over superedges.
 */
export function expandSummary(s: HierarchicalSummary): CsrGraph {
  const n = s.numNodes;
  const members = supernodeMembers(s);
  const count = new Map<number, number>();
  const cover = (pairs: Int32Array, sign: number): void => {
    for (let t = 0; t < pairs.length; t += 2) {
      const a = pairs[t]!;
      const b = pairs[t + 1]!;
      const A = members[a];
      const B = members[b];
      if (A === undefined || B === undefined) {
        throw new GraphCoreError(
          'algorithms/summary',
          `superedge {${a}, ${b}} names a missing supernode`,
        );
      }
      const bump = (u: number, v: number): void => {
        const key = u < v ? u * n + v : v * n + u;
        count.set(key, (count.get(key) ?? 0) + sign);
      };
      if (a === b) {
        if (a < n) bump(a, a);
        else
          for (let i = 0; i < A.length; i++)
            for (let j = i + 1; j < A.length; j++) bump(A[i]!, A[j]!);
      } else {
        for (const u of A) for (const v of B) if (u !== v) bump(u, v);
      }
    }
  };
  cover(s.positive, 1);
  cover(s.negative, -1);
  const src: number[] = [];
  const dst: number[] = [];
  for (const [key, c] of count) {
    if (c === 0) continue;
    if (c !== 1) {
      throw new GraphCoreError(
        'algorithms/summary',
        `pair ${Math.floor(key / n)}-${key % n} is covered ${c} times net; expected 0 or 1`,
      );
    }
    src.push(Math.floor(key / n));
    dst.push(key % n);
  }
  return CsrGraph.fromEdges(n, src, dst);
}
