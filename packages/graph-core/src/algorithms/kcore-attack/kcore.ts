import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';

/** Throws unless `graph` is undirected and `k` is a positive integer (K-core attack inputs). */
export function checkKCoreInput(graph: CsrGraph, k: number): void {
  if (graph.directed) {
    throw new GraphCoreError(
      'algorithms/kcore-attack',
      'expected an undirected graph, got a directed one',
    );
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new GraphCoreError('algorithms/kcore-attack', `k must be a positive integer, got ${k}`);
  }
}

/**
 * Membership mask of the K-core of `graph` minus the vertices flagged in
 * `removed` (1 = deleted): repeatedly prune vertices with fewer than `k`
 * surviving neighbours. Self loops are ignored; multi-edges count with
 * multiplicity (as in `coreNumbers`). O(n + m).
 */
export function kCoreMask(graph: CsrGraph, k: number, removed?: Uint8Array): Uint8Array {
  checkKCoreInput(graph, k);
  const n = graph.numNodes;
  const { indptr, indices } = graph;
  const inCore = new Uint8Array(n);
  const deg = new Int32Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  for (let u = 0; u < n; u++) {
    if (removed !== undefined && removed[u] === 1) continue;
    inCore[u] = 1;
  }
  for (let u = 0; u < n; u++) {
    if (inCore[u] === 0) continue;
    let d = 0;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v !== u && inCore[v] === 1) d++;
    }
    deg[u] = d;
    if (d < k) stack[top++] = u;
  }
  // A vertex enters the stack once: when it is first seen below k, it is marked out.
  for (let i = 0; i < top; i++) inCore[stack[i]!] = 0;
  while (top > 0) {
    const u = stack[--top]!;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v === u || inCore[v] === 0) continue;
      deg[v]!--;
      if (deg[v]! < k) {
        inCore[v] = 0;
        stack[top++] = v;
      }
    }
  }
  return inCore;
}

/** Number of vertices in the K-core of `graph` after deleting `attackSet`. */
export function residualKCoreSize(
  graph: CsrGraph,
  k: number,
  attackSet: ArrayLike<number>,
): number {
  const removed = new Uint8Array(graph.numNodes);
  for (let i = 0; i < attackSet.length; i++) {
    const u = attackSet[i]!;
    if (!Number.isInteger(u) || u < 0 || u >= graph.numNodes) {
      throw new GraphCoreError(
        'algorithms/kcore-attack',
        `attack set entry ${u} is not a node id in [0, ${graph.numNodes})`,
      );
    }
    removed[u] = 1;
  }
  const core = kCoreMask(graph, k, removed);
  let size = 0;
  for (let u = 0; u < core.length; u++) size += core[u]!;
  return size;
}

/** Whether deleting `attackSet` makes the K-core of `graph` empty. */
export function isKCoreAttackSet(
  graph: CsrGraph,
  k: number,
  attackSet: ArrayLike<number>,
): boolean {
  return residualKCoreSize(graph, k, attackSet) === 0;
}
