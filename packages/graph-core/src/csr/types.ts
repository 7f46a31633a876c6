import type { CsrGraph } from './csr-graph.js';
import type { NodeFeatures } from './features.js';

/** Arrays and flags that make up a {@link CsrGraph}. */
export interface CsrGraphInit {
  /** Row pointer, length `numNodes + 1`, `indptr[0] = 0`, non-decreasing. */
  readonly indptr: Int32Array;
  /** Neighbour ids, sorted ascending within each row. */
  readonly indices: Int32Array;
  /** Optional weight per stored arc; absent means all ones. */
  readonly weights?: Float32Array | undefined;
  /** Whether arcs are one-way; undirected graphs store both directions. */
  readonly directed: boolean;
  /** Optional node features (dense or CSR), one row per node. */
  readonly features?: NodeFeatures | undefined;
  /** Optional integer label per node (`-1` = unlabelled). */
  readonly labels?: Int32Array | undefined;
}

/** Options for {@link CsrGraph.fromArrays}. */
export interface CsrGraphFromArraysOptions {
  /** Check structure, ranges and row order (default `true`). */
  readonly validate?: boolean;
}

/** A subgraph together with the original id of each of its nodes. */
export interface Subgraph {
  /** The subgraph; node `i` is original node `nodes[i]`. */
  readonly graph: CsrGraph;
  /** Original id of each subgraph node (new id -> old id). */
  readonly nodes: Int32Array;
}

/** A k-hop neighbourhood: the induced subgraph plus each node's hop distance. */
export interface KHopNeighbourhood extends Subgraph {
  /** Hop distance of each subgraph node from the nearest seed (seeds are 0). */
  readonly hops: Int32Array;
}

/** Direction for degree computations. */
export type DegreeDirection = 'out' | 'in';
