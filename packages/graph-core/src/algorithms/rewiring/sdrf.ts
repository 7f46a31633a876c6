import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { Rng } from '../../random/rng.js';
import { edgeKey, MutableGraph, type RewiringResult, type UndirectedEdge } from './adjacency.js';
import { balancedFormanEdge } from './curvature.js';

/** Options of {@link sdrf}. */
export interface SdrfOptions {
  /** Rewiring iterations (default 10). */
  readonly iterations?: number;
  /** Softmax temperature τ for sampling the added edge (default 5; larger = greedier). */
  readonly temperature?: number;
  /** Remove the most curved edge when its curvature exceeds this (default Infinity: never). */
  readonly removalBound?: number;
  /** PRNG seed (default 0). */
  readonly seed?: number;
}

/**
 * Stochastic Discrete Ricci Flow (Topping et al., "Understanding
 * over-squashing and bottlenecks on graphs via curvature", ICLR 2022,
 * Algorithm 1) with Balanced Forman curvature. Each iteration: take the edge
 * i–j of minimum curvature; for every non-edge k–l with k ∈ B1(i), l ∈ B1(j),
 * compute the gain x_kl = Ric(i,j) after adding k–l minus Ric(i,j) now; add
 * one sampled with probability softmax(τ x) among those with positive gain
 * (none if no candidate helps). Then remove the edge of maximum curvature if
 * it exceeds `removalBound`. Curvatures are recomputed every iteration,
 * O(m d²) each, so this is meant for graphs up to a few thousand edges.
 */
export function sdrf(graph: CsrGraph, options: SdrfOptions = {}): RewiringResult {
  const iterations = options.iterations ?? 10;
  const tau = options.temperature ?? 5;
  const bound = options.removalBound ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new GraphCoreError(
      'algorithms/rewiring',
      `iterations must be a non-negative integer, got ${iterations}`,
    );
  }
  if (!(tau > 0))
    throw new GraphCoreError('algorithms/rewiring', `temperature must be positive, got ${tau}`);
  const g = new MutableGraph(graph, 'algorithms/rewiring');
  const rng = new Rng(options.seed ?? 0);
  const added: UndirectedEdge[] = [];
  const removed: UndirectedEdge[] = [];
  for (let it = 0; it < iterations; it++) {
    const curv = g.edges().map(([u, v]) => ({ u, v, c: balancedFormanEdge(g, u, v) }));
    if (curv.length === 0) break;
    let lo = curv[0]!;
    for (const e of curv) if (e.c < lo.c) lo = e;
    const pick = sampleAddition(g, lo.u, lo.v, lo.c, tau, rng);
    if (pick !== undefined) {
      g.add(pick[0], pick[1]);
      added.push(pick);
    }
    let hi = curv[0]!;
    for (const e of curv) if (e.c > hi.c) hi = e;
    // The maximum is taken over the curvatures before this iteration's addition, as in Algorithm 1.
    if (hi.c > bound && g.has(hi.u, hi.v)) {
      g.remove(hi.u, hi.v);
      removed.push([hi.u, hi.v]);
    }
  }
  return { graph: g.toCsr(), added, removed };
}

function sampleAddition(
  g: MutableGraph,
  i: number,
  j: number,
  current: number,
  tau: number,
  rng: Rng,
): UndirectedEdge | undefined {
  const ballI = [i, ...g.adj[i]!];
  const ballJ = [j, ...g.adj[j]!];
  const cands: { e: UndirectedEdge; x: number }[] = [];
  const seen = new Set<number>();
  for (const k of ballI) {
    for (const l of ballJ) {
      if (k === l || g.has(k, l)) continue;
      const e = edgeKey(k, l);
      const key = e[0] * g.numNodes + e[1];
      if (seen.has(key)) continue;
      seen.add(key);
      g.add(k, l);
      const x = balancedFormanEdge(g, i, j) - current;
      g.remove(k, l);
      if (x > 0) cands.push({ e, x });
    }
  }
  if (cands.length === 0) return undefined;
  // Softmax with the maximum subtracted for stability.
  const xMax = Math.max(...cands.map((c) => c.x));
  const w = cands.map((c) => Math.exp(tau * (c.x - xMax)));
  let r = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let t = 0; t < cands.length; t++) {
    r -= w[t]!;
    if (r < 0) return cands[t]!.e;
  }
  return cands[cands.length - 1]!.e;
}
