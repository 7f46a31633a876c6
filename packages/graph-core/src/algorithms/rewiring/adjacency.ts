import type { CsrGraph } from '../../csr/csr-graph.js';
import { CsrGraph as Csr } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';

/** An undirected edge `[u, v]` with `u < v`. */
export type UndirectedEdge = readonly [number, number];

/** Result of a rewiring: the new graph and the edges it added and removed. */
export interface RewiringResult {
  /** The rewired graph (unweighted, undirected, no self loops or multi-edges). */
  readonly graph: CsrGraph;
  /** Added edges `[u, v]` (u < v), in the order they were added. */
  readonly added: readonly UndirectedEdge[];
  /** Removed edges `[u, v]` (u < v), in the order they were removed. */
  readonly removed: readonly UndirectedEdge[];
}

/**
 * Mutable simple undirected adjacency (one Set per node) for rewiring loops
 * that add and remove edges one at a time; self loops and multi-edges of the
 * input are dropped because curvature and resistance rewiring assume a simple graph.
 */
export class MutableGraph {
  readonly adj: Set<number>[];

  constructor(graph: CsrGraph, module: string) {
    if (graph.directed)
      throw new GraphCoreError(module, 'expected an undirected graph, got a directed one');
    const n = graph.numNodes;
    this.adj = Array.from({ length: n }, () => new Set<number>());
    for (let u = 0; u < n; u++) {
      for (const v of graph.neighbours(u)) if (v !== u) this.adj[u]!.add(v);
    }
  }

  /** Number of nodes. */
  get numNodes(): number {
    return this.adj.length;
  }

  /** Whether `u` and `v` are adjacent. */
  has(u: number, v: number): boolean {
    return this.adj[u]!.has(v);
  }

  /** Degree of `u`. */
  degree(u: number): number {
    return this.adj[u]!.size;
  }

  /** Add edge u–v. */
  add(u: number, v: number): void {
    this.adj[u]!.add(v);
    this.adj[v]!.add(u);
  }

  /** Remove edge u–v. */
  remove(u: number, v: number): void {
    this.adj[u]!.delete(v);
    this.adj[v]!.delete(u);
  }

  /** Every edge once, as [u, v] with u < v, sorted. */
  edges(): UndirectedEdge[] {
    const out: UndirectedEdge[] = [];
    this.adj.forEach((nbrs, u) => {
      for (const v of [...nbrs].sort((a, b) => a - b)) if (u < v) out.push([u, v]);
    });
    return out;
  }

  /** Freeze into a CsrGraph. */
  toCsr(): CsrGraph {
    const e = this.edges();
    return Csr.fromEdges(
      this.numNodes,
      e.map((x) => x[0]),
      e.map((x) => x[1]),
    );
  }
}

/** `[min, max]` of two node ids. */
export function edgeKey(u: number, v: number): UndirectedEdge {
  return u < v ? [u, v] : [v, u];
}
