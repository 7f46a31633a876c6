import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';

/**
 * Newman–Girvan modularity of a partition of an undirected graph
 * ("Finding and evaluating community structure in networks", Newman &
 * Girvan, 2004), with the resolution parameter γ of Reichardt & Bornholdt:
 * `Q = Σ_c [ L_c / m − γ (d_c / 2m)² ]`, weights counted as edge multiplicity.
 * A self loop counts once in L_c and twice in the degree, as networkx does.
 */
export function modularity(graph: CsrGraph, community: ArrayLike<number>, resolution = 1): number {
  if (graph.directed) throw new GraphCoreError('modularity', 'the graph must be undirected');
  if (community.length !== graph.numNodes) {
    throw new GraphCoreError(
      'modularity',
      `community must have one entry per node (${graph.numNodes}), got ${community.length}`,
    );
  }
  const { indptr, indices, weights } = graph;
  let twoM = 0;
  let inside = 0;
  const degreeOf = new Map<number, number>();
  for (let u = 0; u < graph.numNodes; u++) {
    let du = 0;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      const w = weights === undefined ? 1 : weights[p]!;
      // A self loop is stored once but adds 2 to the degree (networkx convention).
      const contribution = v === u ? 2 * w : w;
      du += contribution;
      if (community[u] === community[v]) inside += contribution;
    }
    twoM += du;
    const c = community[u]!;
    degreeOf.set(c, (degreeOf.get(c) ?? 0) + du);
  }
  if (twoM === 0) return 0;
  let q = inside / twoM;
  for (const d of degreeOf.values()) q -= resolution * (d / twoM) ** 2;
  return q;
}
