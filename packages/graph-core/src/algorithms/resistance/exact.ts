import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { connectedComponents } from '../../traversal/components.js';
import { laplacianPseudoinverse } from './dense.js';
import { laplacianDiagonal } from './laplacian.js';

/**
 * Exact effective resistance between all node pairs, dense n × n row-major:
 * R(u, v) = L^+_uu + L^+_vv - 2 L^+_uv, with arc weights as conductances
 * (Black, Wan, Nayyeri & Wang, "Understanding Oversquashing in GNNs through
 * the Lens of Effective Resistance", ICML 2023, use R as the measure of
 * oversquashing between u and v). Infinity between different components.
 */
export function effectiveResistanceMatrix(graph: CsrGraph): Float64Array {
  const n = graph.numNodes;
  const P = laplacianPseudoinverse(graph);
  const { component } = connectedComponents(graph);
  const R = new Float64Array(n * n);
  // Fill the upper triangle and mirror it, so R is exactly symmetric despite rounding in L^+.
  for (let u = 0; u < n; u++) {
    for (let v = u + 1; v < n; v++) {
      const r =
        component[u] !== component[v]
          ? Number.POSITIVE_INFINITY
          : Math.max(0, P[u * n + u]! + P[v * n + v]! - P[u * n + v]! - P[v * n + u]!);
      R[u * n + v] = r;
      R[v * n + u] = r;
    }
  }
  return R;
}

/** Exact effective resistance between `u` and `v` (dense; see {@link effectiveResistanceMatrix}). */
export function effectiveResistance(graph: CsrGraph, u: number, v: number): number {
  checkPair(graph, u, v);
  return effectiveResistanceMatrix(graph)[u * graph.numNodes + v]!;
}

/**
 * Exact commute times, dense n × n: C(u, v) = vol · R(u, v), the expected
 * number of steps of a random walk from u to v and back (Chandra et al.,
 * "The electrical resistance of a graph captures its commute and cover
 * times", 1989). vol is the weighted volume (sum of degrees) of the component
 * holding u and v, since the walk never leaves it; Infinity across components.
 */
export function commuteTimeMatrix(graph: CsrGraph): Float64Array {
  const R = effectiveResistanceMatrix(graph);
  const n = graph.numNodes;
  const { component, count } = connectedComponents(graph);
  const deg = laplacianDiagonal(graph);
  const vol = new Float64Array(count);
  for (let u = 0; u < n; u++) vol[component[u]!]! += deg[u]!;
  for (let u = 0; u < n; u++) {
    const c = vol[component[u]!]!;
    for (let v = 0; v < n; v++) R[u * n + v]! *= c;
  }
  return R;
}

/** Exact commute time between `u` and `v` (see {@link commuteTimeMatrix}). */
export function commuteTime(graph: CsrGraph, u: number, v: number): number {
  checkPair(graph, u, v);
  return commuteTimeMatrix(graph)[u * graph.numNodes + v]!;
}

/**
 * Total effective resistance (Kirchhoff index) R_tot = Σ_{u<v} R(u, v)
 * = n · trace(L^+) for a connected graph, the global oversquashing measure of
 * Black et al. (ICML 2023). Infinity for a disconnected graph; 0 for n ≤ 1.
 */
export function totalEffectiveResistance(graph: CsrGraph): number {
  const n = graph.numNodes;
  if (n <= 1) return 0;
  if (connectedComponents(graph).count > 1) return Number.POSITIVE_INFINITY;
  const P = laplacianPseudoinverse(graph);
  let trace = 0;
  for (let u = 0; u < n; u++) trace += P[u * n + u]!;
  return n * trace;
}

function checkPair(graph: CsrGraph, u: number, v: number): void {
  for (const x of [u, v]) {
    if (!Number.isInteger(x) || x < 0 || x >= graph.numNodes) {
      throw new GraphCoreError(
        'algorithms/resistance',
        `node id ${x} is out of range [0, ${graph.numNodes})`,
      );
    }
  }
}
