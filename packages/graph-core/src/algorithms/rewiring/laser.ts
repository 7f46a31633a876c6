import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { Rng } from '../../random/rng.js';
import { edgeKey, MutableGraph, type RewiringResult, type UndirectedEdge } from './adjacency.js';

/** Options of {@link laser}. */
export interface LaserOptions {
  /** Number of snapshots L: snapshot ℓ links nodes at distance ℓ + 1 (default 2). */
  readonly orders?: number;
  /** Share ρ of each node's distance-(ℓ+1) nodes it gets linked to, rounded up (default 0.25). */
  readonly density?: number;
  /** PRNG seed for breaking ties in connectivity (default 0). */
  readonly seed?: number;
}

/** LASER result: the rewiring plus the snapshot ℓ (1-based) of each added edge. */
export interface LaserResult extends RewiringResult {
  /** `orderOf[t]` is the snapshot ℓ of `added[t]` (its endpoints were ℓ + 1 hops apart). */
  readonly orderOf: readonly number[];
}

/**
 * LASER, locality-aware rewiring (Barbero, Velingker, Saberi, Bronstein & Di
 * Giovanni, "Locality-Aware Graph-Rewiring in GNNs", ICLR 2024). For each
 * snapshot ℓ = 1..L and node v, among the nodes exactly ℓ + 1 hops from v in
 * the input graph, link v to the ⌈ρ · count⌉ with the lowest connectivity
 * μ(v, u) = (A^{ℓ+1})_{vu}, the number of walks of length ℓ + 1, which at
 * distance ℓ + 1 is the number of shortest paths (ties broken at random).
 * Poorly connected, still-local pairs get shortcuts, which lowers commute
 * times while keeping the graph's locality. The paper keeps the snapshots as
 * separate relations; here they are unioned into one graph and `orderOf`
 * records each added edge's snapshot. No edges are removed.
 */
export function laser(graph: CsrGraph, options: LaserOptions = {}): LaserResult {
  const orders = options.orders ?? 2;
  const density = options.density ?? 0.25;
  if (!Number.isInteger(orders) || orders < 1) {
    throw new GraphCoreError(
      'algorithms/rewiring',
      `orders must be a positive integer, got ${orders}`,
    );
  }
  if (!(density > 0 && density <= 1)) {
    throw new GraphCoreError('algorithms/rewiring', `density must be in (0, 1], got ${density}`);
  }
  const g = new MutableGraph(graph, 'algorithms/rewiring');
  const base = new MutableGraph(graph, 'algorithms/rewiring');
  const n = g.numNodes;
  const rng = new Rng(options.seed ?? 0);
  const added: UndirectedEdge[] = [];
  const orderOf: number[] = [];
  const dist = new Int32Array(n);
  const paths = new Float64Array(n);
  const queue = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    // BFS from v in the input graph, counting shortest paths, to depth L + 1.
    dist.fill(-1);
    paths.fill(0);
    dist[v] = 0;
    paths[v] = 1;
    let head = 0;
    let tail = 0;
    queue[tail++] = v;
    while (head < tail) {
      const u = queue[head++]!;
      if (dist[u]! >= orders + 1) continue;
      for (const w of base.adj[u]!) {
        if (dist[w] === -1) {
          dist[w] = dist[u]! + 1;
          queue[tail++] = w;
        }
        if (dist[w] === dist[u]! + 1) paths[w]! += paths[u]!;
      }
    }
    for (let l = 1; l <= orders; l++) {
      const ring: { u: number; mu: number; r: number }[] = [];
      for (let t = 0; t < tail; t++) {
        const u = queue[t]!;
        if (dist[u] === l + 1) ring.push({ u, mu: paths[u]!, r: rng.next() });
      }
      if (ring.length === 0) continue;
      ring.sort((a, b) => a.mu - b.mu || a.r - b.r);
      const take = Math.ceil(density * ring.length);
      for (let t = 0; t < take; t++) {
        const u = ring[t]!.u;
        if (g.has(v, u)) continue; // already added from u's side
        g.add(v, u);
        added.push(edgeKey(v, u));
        orderOf.push(l);
      }
    }
  }
  return { graph: g.toCsr(), added, removed: [], orderOf };
}
