import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';

/** Options for the BFS functions. */
export interface BfsOptions {
  /** Stop after this many hops (default: no limit); farther nodes stay -1. */
  readonly maxDepth?: number;
}

function checkSource(graph: CsrGraph, s: number): void {
  if (!Number.isInteger(s) || s < 0 || s >= graph.numNodes) {
    throw new GraphCoreError('traversal', `source ${s} is out of range [0, ${graph.numNodes})`);
  }
}

/**
 * Hop distances from `source` following arcs forward; `-1` = unreachable.
 * A plain queue over the CSR rows: O(n + m) with no allocation per node.
 */
export function bfsDistances(
  graph: CsrGraph,
  source: number,
  options: BfsOptions = {},
): Int32Array {
  return multiSourceBfs(graph, [source], options);
}

/**
 * Hop distance from each node to its nearest source (all sources at 0);
 * `-1` = unreachable. One BFS, O(n + m).
 */
export function multiSourceBfs(
  graph: CsrGraph,
  sources: ArrayLike<number>,
  options: BfsOptions = {},
): Int32Array {
  const dist = new Int32Array(graph.numNodes).fill(-1);
  const queue = new Int32Array(graph.numNodes);
  bfsInto(graph, sources, options.maxDepth ?? Number.MAX_SAFE_INTEGER, dist, queue);
  return dist;
}

/**
 * BFS into caller-owned buffers (`dist` must be all -1), returning how many
 * nodes were reached; `queue[0..count)` lists them by nondecreasing distance.
 * Lets callers run many BFS without reallocating.
 *
 * Undirected graphs use direction-optimising BFS (Beamer, Asanović &
 * Patterson, "Direction-Optimizing Breadth-First Search", SC 2012): when the
 * frontier's arcs outnumber the unvisited nodes' arcs / 14, a level is
 * expanded bottom-up (each unvisited node looks for any parent in the
 * frontier and stops at the first), which skips most arcs on the
 * low-diameter, skewed-degree graphs GNNs run on.
 */
export function bfsInto(
  graph: CsrGraph,
  sources: ArrayLike<number>,
  maxDepth: number,
  dist: Int32Array,
  queue: Int32Array,
): number {
  const { indptr, indices } = graph;
  const n = graph.numNodes;
  let tail = 0;
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    checkSource(graph, s);
    if (dist[s] === -1) {
      dist[s] = 0;
      queue[tail++] = s;
    }
  }
  let head = 0;
  let level = 0;
  let unexploredArcs = graph.numEdges;
  const bottomUpAllowed = !graph.directed;
  while (head < tail && level < maxDepth) {
    const levelEnd = tail;
    let frontierArcs = 0;
    for (let i = head; i < levelEnd; i++) {
      const u = queue[i]!;
      frontierArcs += indptr[u + 1]! - indptr[u]!;
    }
    unexploredArcs -= frontierArcs;
    const next = level + 1;
    if (bottomUpAllowed && frontierArcs > unexploredArcs / 14 && levelEnd - head > n / 64) {
      for (let v = 0; v < n; v++) {
        if (dist[v] !== -1) continue;
        const end = indptr[v + 1]!;
        for (let p = indptr[v]!; p < end; p++) {
          if (dist[indices[p]!] === level) {
            dist[v] = next;
            queue[tail++] = v;
            break;
          }
        }
      }
    } else {
      for (let i = head; i < levelEnd; i++) {
        const u = queue[i]!;
        const end = indptr[u + 1]!;
        for (let p = indptr[u]!; p < end; p++) {
          const v = indices[p]!;
          if (dist[v] === -1) {
            dist[v] = next;
            queue[tail++] = v;
          }
        }
      }
    }
    head = levelEnd;
    level = next;
  }
  return tail;
}

/** Per-hop node lists: `rings[d - 1]` is a CSR whose row u lists the nodes at exactly distance d from u. */
export interface DistanceRings {
  /** Row pointer per distance d = 1..k, each of length `numNodes + 1`. */
  readonly indptr: readonly Int32Array[];
  /** Node ids per distance, sorted within each row. */
  readonly indices: readonly Int32Array[];
}

/**
 * Shortest-path distance buckets up to `k` (the k-hop rings DRew rewires
 * with: Gutteridge et al., "DRew: Dynamically Rewired Message Passing with
 * Delay", ICML 2023): for every node u and d = 1..k, the nodes at exactly
 * distance d. One truncated BFS per node, O(n · |k-ball|) overall.
 */
export function distanceRings(graph: CsrGraph, k: number): DistanceRings {
  if (!Number.isInteger(k) || k < 1)
    throw new GraphCoreError('traversal', `k must be an integer >= 1, got ${k}`);
  const n = graph.numNodes;
  const dist = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const counts = Array.from({ length: k }, () => new Int32Array(n + 1));
  const lists: number[][] = Array.from({ length: k }, () => []);
  const src = [0];
  for (let u = 0; u < n; u++) {
    src[0] = u;
    const reached = bfsInto(graph, src, k, dist, queue);
    // Queue order is by distance; sort each distance block so rows are ascending.
    let start = 1;
    while (start < reached) {
      const d = dist[queue[start]!]!;
      let end = start;
      while (end < reached && dist[queue[end]!] === d) end++;
      const block = queue.subarray(start, end).slice().sort();
      counts[d - 1]![u + 1] = block.length;
      const list = lists[d - 1]!;
      for (let i = 0; i < block.length; i++) list.push(block[i]!);
      start = end;
    }
    for (let i = 0; i < reached; i++) dist[queue[i]!] = -1;
  }
  const indptr = counts.map((c) => {
    for (let u = 0; u < n; u++) c[u + 1]! += c[u]!;
    return c;
  });
  return { indptr, indices: lists.map((l) => Int32Array.from(l)) };
}
