import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import type { Dendrogram } from './dendrogram.js';
import { spectralClustering } from './spectral.js';

/** Options of {@link bottomUpHierarchy}. */
export interface BottomUpOptions {
  /** Number of bottom communities K, found by spectral clustering (needed without `leafLabels`). */
  readonly numCommunities?: number;
  /** Use these bottom communities instead (any integer labels, one per node). */
  readonly leafLabels?: ArrayLike<number>;
  /** Seed for spectral clustering (default 0). */
  readonly seed?: number;
}

/**
 * Bottom-up (agglomerative) hierarchical community detection after Dreveton,
 * Gözeten, Grossglauser & Thiran, "When Does Bottom-up Beat Top-down in
 * Hierarchical Community Detection?" (2023): first find the K bottom
 * communities with a flat clustering (spectral clustering of the normalised
 * adjacency, or labels you pass), then repeatedly merge the two clusters with
 * the largest average linkage w(A, B) = e(A, B) / (|A| · |B|), the edge
 * density between them (edge weights summed). Linkage is recomputed exactly
 * after each merge from summed edge counts. Returns a dendrogram whose leaves
 * are the bottom communities and whose `heights` are the merge linkages.
 */
export function bottomUpHierarchy(graph: CsrGraph, options: BottomUpOptions = {}): Dendrogram {
  if (graph.directed) {
    throw new GraphCoreError(
      'algorithms/hierarchy',
      'expected an undirected graph, got a directed one',
    );
  }
  const n = graph.numNodes;
  let raw: ArrayLike<number>;
  if (options.leafLabels !== undefined) {
    if (options.leafLabels.length !== n) {
      throw new GraphCoreError(
        'algorithms/hierarchy',
        `leafLabels must have one entry per node (${n}), got ${options.leafLabels.length}`,
      );
    }
    raw = options.leafLabels;
  } else {
    const k = options.numCommunities;
    if (k === undefined || !Number.isInteger(k) || k < 1) {
      throw new GraphCoreError(
        'algorithms/hierarchy',
        `numCommunities must be a positive integer, got ${k}`,
      );
    }
    raw = spectralClustering(graph, k, options.seed ?? 0);
  }
  const ids = new Map<number, number>();
  const leafOf = Int32Array.from({ length: n }, (_, u) => {
    let id = ids.get(raw[u]!);
    if (id === undefined) {
      id = ids.size;
      ids.set(raw[u]!, id);
    }
    return id;
  });
  const K = ids.size;
  const total = Math.max(1, 2 * K - 1);
  const size = new Float64Array(total);
  const e = new Float64Array(total * total);
  for (let u = 0; u < n; u++) size[leafOf[u]!]!++;
  const { indptr, indices, weights } = graph;
  for (let u = 0; u < n; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      // Each undirected edge is stored twice; count it once per ordered cluster pair.
      if (v <= u) continue;
      const a = leafOf[u]!;
      const b = leafOf[v]!;
      const w = weights === undefined ? 1 : weights[p]!;
      e[a * total + b]! += w;
      if (a !== b) e[b * total + a]! += w;
    }
  }
  const active = Array.from({ length: K }, (_, i) => i);
  const merges: [number, number][] = [];
  const heights: number[] = [];
  while (active.length > 1) {
    let bi = 0;
    let bj = 1;
    let best = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < active.length; i++) {
      for (let j = i + 1; j < active.length; j++) {
        const a = active[i]!;
        const b = active[j]!;
        const link = e[a * total + b]! / (size[a]! * size[b]!);
        if (link > best) {
          best = link;
          bi = i;
          bj = j;
        }
      }
    }
    const a = active[bi]!;
    const b = active[bj]!;
    const c = K + merges.length;
    size[c] = size[a]! + size[b]!;
    for (const d of active) {
      if (d === a || d === b) continue;
      const x = e[a * total + d]! + e[b * total + d]!;
      e[c * total + d] = x;
      e[d * total + c] = x;
    }
    e[c * total + c] = e[a * total + a]! + e[b * total + b]! + e[a * total + b]!;
    merges.push([a, b]);
    heights.push(best);
    active.splice(bj, 1);
    active[bi] = c;
  }
  return { leafOf, numLeaves: K, merges, heights: Float64Array.from(heights) };
}
