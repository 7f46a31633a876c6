import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { Rng } from '../../random/rng.js';
import { SupernodeForest } from './forest.js';
import { type HierarchicalSummary, summaryCost } from './types.js';

/** Options of {@link slugger}. */
export interface SluggerOptions {
  /** Merging iterations T; the saving threshold is 1/(1+t), and 0 in the last one (default 20). */
  readonly iterations?: number;
  /** Largest number of nodes in one supernode (default 64). */
  readonly maxSupernodeSize?: number;
  /** Candidate groups larger than this are cut into random chunks (default 128). */
  readonly maxGroupSize?: number;
  /** PRNG seed (default 0). */
  readonly seed?: number;
}

/** SLUGGER output: the summary and its size. */
export interface SluggerResult {
  /** The lossless hierarchical summary; {@link expandSummary} gives the input graph back. */
  readonly summary: HierarchicalSummary;
  /** Summary size: superedges + hierarchy links ({@link summaryCost}). */
  readonly cost: number;
  /** Undirected edges of the input (self loops included, once each). */
  readonly numEdges: number;
  /** `cost / numEdges`: below 1 means the summary is smaller than the edge list (1 for no edges). */
  readonly compressionRatio: number;
}

/**
 * SLUGGER (Lee, Ko & Shin, "SLUGGER: Lossless Hierarchical Summarization of
 * Massive Graphs", ICDE 2022), in a compact form:
 * 1. Every node starts as its own root supernode.
 * 2. For t = 1..T, roots are grouped by a fresh min-hash of their closed
 *    neighbourhoods (big groups cut into random chunks); inside a group a
 *    random root A is merged with the partner B of largest relative saving
 *    1 − cost(after)/cost(before) if that saving reaches 1/(1+t). Merging
 *    creates a new root with children A and B. Costs are the exact optimum of
 *    the alternating-sign encoding between supernode trees computed by
 *    {@link SupernodeForest} (a dynamic programme over the two hierarchies),
 *    plus the two new hierarchy links.
 * 3. The edges between and inside roots are emitted from that programme, and
 *    internal supernodes no superedge uses are pruned (their children move up).
 * Differences from the paper: one min-hash per iteration instead of its
 * recursive shingle refinement, a supernode size cap, and pruning limited to
 * unused supernodes. Undirected graphs without multi-edges; self loops are
 * kept as self superedges on single nodes. The result is always lossless.
 */
export function slugger(graph: CsrGraph, options: SluggerOptions = {}): SluggerResult {
  const iterations = options.iterations ?? 20;
  const maxSize = options.maxSupernodeSize ?? 64;
  const maxGroup = options.maxGroupSize ?? 128;
  checkInput(graph);
  for (const [name, v, min] of [
    ['iterations', iterations, 0],
    ['maxSupernodeSize', maxSize, 1],
    ['maxGroupSize', maxGroup, 2],
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new GraphCoreError(
        'algorithms/summary',
        `${name} must be an integer ≥ ${min}, got ${v}`,
      );
    }
  }
  const n = graph.numNodes;
  const rng = new Rng(options.seed ?? 0);
  const forest = new SupernodeForest(graph);
  const roots = new Set<number>(Array.from({ length: n }, (_, i) => i));
  const hash = new Float64Array(n);
  for (let t = 1; t <= iterations; t++) {
    const theta = t < iterations ? 1 / (1 + t) : Number.MIN_VALUE;
    for (let u = 0; u < n; u++) hash[u] = rng.next();
    for (const group of candidateGroups(graph, forest, roots, hash, maxGroup, rng)) {
      while (group.length > 1) {
        const a = group.splice(rng.nextInt(group.length), 1)[0]!;
        let bestIdx = -1;
        let bestSaving = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < group.length; i++) {
          const b = group[i]!;
          if (forest.leaves[a]!.length + forest.leaves[b]!.length > maxSize) continue;
          const s = saving(forest, a, b);
          if (s > bestSaving) {
            bestSaving = s;
            bestIdx = i;
          }
        }
        if (bestIdx === -1 || bestSaving < theta) continue;
        const b = group[bestIdx]!;
        const c = forest.propose(a, b);
        forest.commit(c);
        roots.delete(a);
        roots.delete(b);
        roots.add(c);
        group[bestIdx] = c; // the new root stays a candidate in this group
      }
    }
  }
  const summary = encode(graph, forest, roots);
  const cost = summaryCost(summary);
  const numEdges = countEdges(graph);
  return { summary, cost, numEdges, compressionRatio: numEdges === 0 ? 1 : cost / numEdges };
}

function checkInput(graph: CsrGraph): void {
  if (graph.directed) {
    throw new GraphCoreError(
      'algorithms/summary',
      'expected an undirected graph, got a directed one',
    );
  }
  if (graph.numNodes >= 2 ** 20) {
    throw new GraphCoreError(
      'algorithms/summary',
      `expected fewer than 2^20 nodes, got ${graph.numNodes}`,
    );
  }
  const { indptr, indices } = graph;
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = indptr[u]! + 1; p < indptr[u + 1]!; p++) {
      if (indices[p] === indices[p - 1]) {
        throw new GraphCoreError(
          'algorithms/summary',
          `expected no multi-edges, got a repeated edge ${u}-${indices[p]}`,
        );
      }
    }
  }
}

function countEdges(graph: CsrGraph): number {
  let loops = 0;
  for (let u = 0; u < graph.numNodes; u++) if (graph.hasEdge(u, u)) loops++;
  return (graph.numEdges - loops) / 2 + loops;
}

/** Relative saving of merging roots a and b (cost of their encodings before vs after). */
function saving(forest: SupernodeForest, a: number, b: number): number {
  const na = forest.neighbourRoots(a);
  const nb = forest.neighbourRoots(b);
  let before = forest.intraCost(a) + forest.intraCost(b);
  for (const y of na) before += forest.pairCost(a, y);
  for (const y of nb) if (y !== a) before += forest.pairCost(b, y);
  if (before === 0) return Number.NEGATIVE_INFINITY;
  const c = forest.propose(a, b);
  let after = 2 + forest.intraCost(c);
  for (const y of na) if (y !== b) after += forest.pairCost(c, y);
  for (const y of nb) if (y !== a && !na.has(y)) after += forest.pairCost(c, y);
  forest.discard(c);
  return 1 - after / before;
}

/** Roots grouped by the min-hash of their nodes' closed neighbourhoods. */
function candidateGroups(
  graph: CsrGraph,
  forest: SupernodeForest,
  roots: Set<number>,
  hash: Float64Array,
  maxGroup: number,
  rng: Rng,
): number[][] {
  const { indptr, indices } = graph;
  const byShingle = new Map<number, number[]>();
  for (const r of roots) {
    let m = Number.POSITIVE_INFINITY;
    for (const u of forest.leaves[r]!) {
      m = Math.min(m, hash[u]!);
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) m = Math.min(m, hash[indices[p]!]!);
    }
    const list = byShingle.get(m);
    if (list === undefined) byShingle.set(m, [r]);
    else list.push(r);
  }
  const groups: number[][] = [];
  for (const list of byShingle.values()) {
    if (list.length < 2) continue;
    const arr = rng.shuffle(Int32Array.from(list));
    for (let i = 0; i < arr.length; i += maxGroup)
      groups.push(Array.from(arr.subarray(i, i + maxGroup)));
  }
  return groups;
}

/** Emit all superedges from the final hierarchy, then prune unused internal supernodes. */
function encode(graph: CsrGraph, forest: SupernodeForest, roots: Set<number>): HierarchicalSummary {
  const n = graph.numNodes;
  const pos: number[] = [];
  const neg: number[] = [];
  for (let u = 0; u < n; u++) if (graph.hasEdge(u, u)) pos.push(u, u);
  const sorted = [...roots].sort((x, y) => x - y);
  for (const r of sorted) {
    forest.emitIntra(r, pos, neg);
    for (const y of forest.neighbourRoots(r)) if (y > r) forest.emitPair(r, y, pos, neg);
  }
  // Keep nodes and the internal supernodes some superedge names; others are spliced out.
  const used = new Uint8Array(forest.size);
  used.fill(1, 0, n);
  for (const x of pos) used[x] = 1;
  for (const x of neg) used[x] = 1;
  const newId = new Int32Array(forest.size).fill(-1);
  let next = n;
  for (let s = 0; s < forest.size; s++) if (used[s] === 1) newId[s] = s < n ? s : next++;
  const parent = new Int32Array(next).fill(-1);
  for (let s = 0; s < forest.size; s++) {
    if (used[s] === 0) continue;
    let a = forest.parent[s]!;
    while (a !== -1 && used[a] === 0) a = forest.parent[a]!;
    parent[newId[s]!] = a === -1 ? -1 : newId[a]!;
  }
  const remap = (xs: number[]): Int32Array => Int32Array.from(xs, (x) => newId[x]!);
  return { numNodes: n, parent, positive: remap(pos), negative: remap(neg) };
}
