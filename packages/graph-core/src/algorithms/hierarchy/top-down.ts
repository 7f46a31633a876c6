import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import type { Dendrogram } from './dendrogram.js';
import { normalizedAdjacencyEigenvectors } from './spectral.js';

/** Options of {@link topDownHierarchy}. */
export interface TopDownOptions {
  /** Levels of binary splits (default 2, so up to 4 leaves). */
  readonly depth?: number;
  /** Clusters smaller than this are not split (default 2). */
  readonly minSize?: number;
  /** Lanczos seed (default 0). */
  readonly seed?: number;
}

/**
 * Top-down hierarchical community detection by recursive spectral
 * bipartition, the baseline that Dreveton et al. ("When Does Bottom-up Beat
 * Top-down in Hierarchical Community Detection?", 2023) compare against: split
 * each cluster by the sign of the second eigenvector of its induced subgraph's
 * normalised adjacency (the Shi–Malik normalised-cut relaxation), breadth
 * first, `depth` levels deep. Returned in the same merge form as
 * {@link bottomUpHierarchy} (deepest splits merge first); `heights` hold
 * 1 / (split level + 1), so larger means merged earlier.
 */
export function topDownHierarchy(graph: CsrGraph, options: TopDownOptions = {}): Dendrogram {
  if (graph.directed) {
    throw new GraphCoreError(
      'algorithms/hierarchy',
      'expected an undirected graph, got a directed one',
    );
  }
  const depth = options.depth ?? 2;
  const minSize = options.minSize ?? 2;
  if (!Number.isInteger(depth) || depth < 0) {
    throw new GraphCoreError(
      'algorithms/hierarchy',
      `depth must be a non-negative integer, got ${depth}`,
    );
  }
  const n = graph.numNodes;
  if (n === 0)
    return { leafOf: new Int32Array(0), numLeaves: 0, merges: [], heights: new Float64Array(0) };
  // Tree nodes: members, level; splits record [parent, left, right] in BFS order.
  const members: Int32Array[] = [Int32Array.from({ length: n }, (_, i) => i)];
  const level: number[] = [0];
  const splits: [number, number, number][] = [];
  for (let t = 0; t < members.length; t++) {
    const nodes = members[t]!;
    if (level[t]! >= depth || nodes.length < Math.max(2, minSize)) continue;
    const sub = graph.inducedSubgraph(nodes).graph;
    const vecs = normalizedAdjacencyEigenvectors(sub, 2, (options.seed ?? 0) + t);
    const f = vecs[1];
    if (f === undefined) continue;
    const left: number[] = [];
    const right: number[] = [];
    nodes.forEach((u, i) => {
      (f[i]! >= 0 ? left : right).push(u);
    });
    if (left.length === 0 || right.length === 0) continue;
    members.push(Int32Array.from(left), Int32Array.from(right));
    level.push(level[t]! + 1, level[t]! + 1);
    splits.push([t, members.length - 2, members.length - 1]);
  }
  // Leaves are tree nodes never split; number them, then merge splits in reverse.
  const isParent = new Set(splits.map((s) => s[0]));
  const clusterId = new Int32Array(members.length).fill(-1);
  const leafOf = new Int32Array(n);
  let numLeaves = 0;
  members.forEach((nodes, t) => {
    if (isParent.has(t)) return;
    clusterId[t] = numLeaves;
    for (const u of nodes) leafOf[u] = numLeaves;
    numLeaves++;
  });
  const merges: [number, number][] = [];
  const heights: number[] = [];
  for (let s = splits.length - 1; s >= 0; s--) {
    const [parent, a, b] = splits[s]!;
    merges.push([clusterId[a]!, clusterId[b]!]);
    heights.push(1 / (level[parent]! + 1));
    clusterId[parent] = numLeaves + merges.length - 1;
  }
  return { leafOf, numLeaves, merges, heights: Float64Array.from(heights) };
}
