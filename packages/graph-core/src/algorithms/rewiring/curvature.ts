import type { CsrGraph } from '../../csr/csr-graph.js';
import { MutableGraph } from './adjacency.js';

/**
 * Balanced Forman curvature of edge i–j (Topping, Di Giovanni, Chamberlain,
 * Dong & Bronstein, "Understanding over-squashing and bottlenecks on graphs
 * via curvature", ICLR 2022, Definition 1):
 *
 *   Ric(i,j) = 2/d_i + 2/d_j - 2 + 2|♯Δ|/max(d_i,d_j) + |♯Δ|/min(d_i,d_j)
 *              + (|♯□^i| + |♯□^j|) / (γ_max · max(d_i,d_j)),
 *
 * with ♯Δ the triangles on i–j; ♯□^i the neighbours k of i (k ≠ j, k not
 * adjacent to j) closing a 4-cycle i–k–w–j with w ∉ {i} ∪ N(i) (no diagonal);
 * γ_max the largest number of such w through one k (either side); the
 * 4-cycle term is 0 when there are none, and Ric = 0 when min degree is 1.
 * This follows the paper's definition (the reference numba code differs on
 * degenerate 4-cycles through i itself).
 */
export function balancedFormanEdge(g: MutableGraph, i: number, j: number): number {
  const di = g.degree(i);
  const dj = g.degree(j);
  if (Math.min(di, dj) <= 1) return 0;
  const dMax = Math.max(di, dj);
  const dMin = Math.min(di, dj);
  const Ni = g.adj[i]!;
  const Nj = g.adj[j]!;
  let triangles = 0;
  for (const k of Ni) if (Nj.has(k)) triangles++;
  const side = (a: number, Na: Set<number>, b: number, Nb: Set<number>): [number, number] => {
    // Neighbours k of a (not b, not adjacent to b) with w ~ k, w ~ b, w ∉ {a} ∪ N(a).
    let count = 0;
    let gamma = 0;
    for (const k of Na) {
      if (k === b || Nb.has(k)) continue;
      let ws = 0;
      for (const w of g.adj[k]!) if (w !== a && Nb.has(w) && !Na.has(w)) ws++;
      if (ws > 0) {
        count++;
        gamma = Math.max(gamma, ws);
      }
    }
    return [count, gamma];
  };
  const [si, gi] = side(i, Ni, j, Nj);
  const [sj, gj] = side(j, Nj, i, Ni);
  const gammaMax = Math.max(gi, gj);
  let ric = 2 / di + 2 / dj - 2 + (2 * triangles) / dMax + triangles / dMin;
  if (gammaMax > 0) ric += (si + sj) / (gammaMax * dMax);
  return ric;
}

/**
 * Balanced Forman curvature of every stored arc of an undirected graph,
 * aligned with `graph.indices` (both arcs of an edge get the same value;
 * self loops and repeated arcs are ignored when counting, self-loop arcs get 0).
 * See {@link balancedFormanEdge} for the definition (Topping et al., ICLR 2022).
 */
export function balancedFormanCurvature(graph: CsrGraph): Float64Array {
  const g = new MutableGraph(graph, 'algorithms/rewiring');
  const out = new Float64Array(graph.numEdges);
  const { indptr, indices } = graph;
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      out[p] = v === u ? 0 : balancedFormanEdge(g, u, v);
    }
  }
  return out;
}
